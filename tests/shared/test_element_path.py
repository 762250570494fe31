"""Element paths in the official report format, and that they stay linear on large messages."""

from lxml import etree

from validators.paths import element_path


def test_index_only_where_siblings_share_the_name():
    root = etree.fromstring(b"<Bericht><Client><P/><Q/><P/></Client></Bericht>")
    client = root[0]
    assert [element_path(c) for c in client] == [
        "/Bericht/Client/P[1]",
        "/Bericht/Client/Q",
        "/Bericht/Client/P[2]",
    ]


def test_namespaces_are_dropped():
    root = etree.fromstring(b'<j:Bericht xmlns:j="urn:x"><j:Header><j:A/></j:Header></j:Bericht>')
    assert element_path(root[0][0]) == "/Bericht/Header/A"


def test_paths_follow_changes_to_the_tree():
    root = etree.fromstring(b"<a><b/><c/></a>")
    assert element_path(root[0]) == "/a/b"
    root.append(etree.Element("b"))
    assert element_path(root[0]) == "/a/b[1]"
    root.insert(1, etree.Element("b"))
    assert [element_path(c) for c in root] == ["/a/b[1]", "/a/b[2]", "/a/c", "/a/b[3]"]


def test_many_siblings_are_indexed_once():
    n = 5000
    root = etree.fromstring(b"<a><s>" + b"<p><x/></p>" * n + b"</s></a>")
    paths = [element_path(p[0]) for p in root[0]]
    assert paths[0] == "/a/s/p[1]/x" and paths[-1] == f"/a/s/p[{n}]/x"
    assert len(set(paths)) == n
