"""PrestaShop's webservice errors: an HTTP status plus one or more (code, message)
pairs, rendered as an error document in the requested format (prestashop.md §5).
Messages are PrestaShop's own text (WebserviceRequest.php), typos included."""

from __future__ import annotations

from collections.abc import Sequence

REALM = (
    'Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the '
    'login. No password required."'
)


class WebserviceError(Exception):
    def __init__(self, status: int, errors: Sequence[tuple[int, str]]) -> None:
        super().__init__(errors[0][1] if errors else str(status))
        self.status = status
        self.errors = list(errors)

    @classmethod
    def one(cls, status: int, code: int, message: str) -> WebserviceError:
        return cls(status, [(code, message)])


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def closest(value: str, words: Sequence[str]) -> str:
    """PHP `getClosest`: the smallest distance wins, a later word wins a tie."""
    best, shortest = "", -1
    for word in words:
        distance = levenshtein(value, word)
        if distance == 0:
            return word
        if shortest < 0 or distance <= shortest:
            best, shortest = word, distance
    return best


def did_you_mean(
    status: int, label: str, value: str, available: Sequence[str], code: int
) -> WebserviceError:
    message = f'{label}. Did you mean: "{closest(value, available)}"?'
    if len(available) > 1:
        message += ' The full list is: "' + '", "'.join(available) + '"'
    return WebserviceError.one(status, code, message)
