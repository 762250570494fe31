"""An assertion with the schema errors and the message in its failure text."""

from lxml import etree


def assert_valid(schema: etree.XMLSchema, message: bytes, what: str = "") -> None:
    doc = etree.fromstring(message)
    if not schema.validate(doc):
        errors = "\n".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        raise AssertionError(f"{what} not schema-valid:\n{errors}\n{message.decode()[:4000]}")
