"""The Du01 a retour leaves in is written from a template (gateway.ggk.ingress.du01_bytes) instead
of a tree: byte for byte what build.envelope writes, valid under our schema, and every value the
template cannot vouch for goes through the schema-checked builder instead."""

from __future__ import annotations

import uuid

import pytest
from lxml import etree

from gateway import catalog, ggk, samples
from gateway.ggk import build, ingress, schema
from gateway.ggk.model import GGK_APPLICATIE, Application, Stuurgegevens, Systeem

ANSWERS = [t for t in catalog.ALL if t.kind != "heen"]


def _tree_built(zender, ontvanger, ref, tijdstip, cross, functie, payload, versie, subversie,
                app=build.DEFAULT_APPLICATION) -> bytes:
    sg = Stuurgegevens(
        berichtcode="Du01",
        zender=Systeem(organisatie=zender, applicatie=app.naam),
        ontvanger=Systeem(organisatie=ontvanger, applicatie=GGK_APPLICATIE),
        referentienummer=ref, tijdstip_bericht=tijdstip, cross_refnummer=cross, functie=functie,
    )
    return build.envelope(sg, app, payload, versie, subversie)


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda t: t.code)
def test_template_equals_the_builder_for_every_retour_type(answer):
    payload = samples.build(answer.code)
    args = ("12345678", "0599", str(uuid.uuid4()), "20261206133303", str(uuid.uuid4()), answer.code,
            payload, "0003", "0002")
    made = ingress.du01_bytes(*args)
    assert made == _tree_built(*args)
    assert schema.findings(etree.fromstring(made)) == []
    opened = ggk.read(made)
    assert opened.payload == payload and opened.stuurgegevens.functie == answer.code


@pytest.mark.parametrize("values", [
    {"zender": "Zorg & Co"},  # escaped by lxml
    {"ontvanger": "<0599>"},
    {"zender": " 1234"},  # surrounding whitespace
    {"zender": "x" * 201},  # too long for the schema: BUILD
    {"cross": "NOT-A-UUID"},
    {"functie": "F" * 31},
    {"versie": "3"},
    {"tijdstip": "2026"},
    {"app": Application(naam="ab")},  # too short for the schema: BUILD
    {"app": Application(naam="Zorg&Gateway")},
    {"zender": "Ærø kommune"},  # non-ASCII: the template writes it as lxml does
    {"payload": b""},
])
def test_values_the_template_cannot_vouch_for_take_the_builder(values):
    args = {"zender": "12345678", "ontvanger": "0599", "ref": str(uuid.uuid4()), "tijdstip": "20261206133303",
            "cross": str(uuid.uuid4()), "functie": "JW302", "payload": samples.build("JW302"), "versie": "0003",
            "subversie": "0002"}
    args.update(values)
    try:
        expected = _tree_built(**args)
    except ggk.EnvelopeError as exc:
        with pytest.raises(ggk.EnvelopeError) as caught:
            ingress.du01_bytes(**args)
        assert caught.value.error.code == exc.error.code == "BUILD"
        return
    assert ingress.du01_bytes(**args) == expected


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda t: t.code)
def test_the_template_says_where_the_retour_stands(answer):
    """The store cuts the retour's base64 out of the Du01 it keeps at the offset the template
    gives (gateway.store.elided): it must be where the search would find it."""
    from gateway.store.elided import cut, whole

    received = ingress.receive(ggk.wrap(samples.allocation("ijw")))
    retour = samples.build(answer.code)
    data, _ref, at = ingress.retour_du01(received, retour, answer)
    assert at is not None and cut(data, retour, at) == cut(data, retour)
    kept, at = cut(data, retour, at)
    assert whole(kept, at, retour) == data
