// composecheck validates docker compose files the way `docker compose config`
// does — compose-spec schema, interpolation, normalisation and consistency
// (unknown services in depends_on, undefined networks/volumes...) — with the
// same library (github.com/compose-spec/compose-go), and without a Docker
// engine. deploy/validate.sh builds it through the Go module proxy.
//
//	go run . [--print] ../compose.yaml
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	printModel := flag.Bool("print", false, "print the resolved model (like `docker compose config`)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: composecheck [--print] compose.yaml [more.yaml ...]")
		os.Exit(2)
	}
	files := flag.Args()
	options, err := cli.NewProjectOptions(
		files,
		cli.WithWorkingDirectory(filepath.Dir(files[0])),
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithConsistency(true),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		// Every profile: the `tools` services are checked too.
		cli.WithProfiles([]string{"*"}),
	)
	if err != nil {
		fail(files, err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(files, err)
	}
	if *printModel {
		out, err := project.MarshalYAML()
		if err != nil {
			fail(files, err)
		}
		os.Stdout.Write(out)
		return
	}
	fmt.Printf("%v: valid compose project %q with %d services\n", files, project.Name, len(project.Services))
}

func fail(files []string, err error) {
	fmt.Fprintf(os.Stderr, "%v: invalid: %v\n", files, err)
	os.Exit(1)
}
