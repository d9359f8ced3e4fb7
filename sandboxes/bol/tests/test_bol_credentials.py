"""The seller replaces the API credentials in the seller dashboard (control API): the old
pair is refused at the login host and its tokens on the API; the new pair works."""

from __future__ import annotations


async def test_replaced_credentials_refuse_the_old_pair_and_its_tokens(bol) -> None:
    await bol.api.login()
    assert (await bol.api.get("/retailer/orders")).status_code == 200
    old = bol.api.credentials
    new = await bol.control.replace_credentials()
    assert (new.client_id, new.client_secret) != (old.client_id, old.client_secret)
    bol.api.auto_refresh = False
    refused = await bol.api.get("/retailer/orders")
    assert refused.status_code == 401 and refused.json()["title"] == "Unauthorized"
    login = await bol.http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": bol.api.basic()},
    )
    assert login.status_code == 401 and login.json()["error"] == "invalid_client"
    fresh = bol.api_for(new)
    await fresh.login()
    assert (await fresh.get("/retailer/orders")).status_code == 200


async def test_a_chosen_pair_is_taken_and_another_accounts_id_refused(bol) -> None:
    other = await bol.control.create_account(name="Andere winkel")
    chosen = await bol.control.replace_credentials(client_id="my-id", client_secret="s3cret-s3cret")
    assert (chosen.client_id, chosen.client_secret) == ("my-id", "s3cret-s3cret")
    try:
        await bol.control.replace_credentials(client_id=other.client_id)
    except RuntimeError as error:
        assert "taken" in str(error)
    else:
        raise AssertionError("another account's client id was accepted")
