"""hls.js and the other static text files arrive gzipped where the browser accepts it."""
import gzip
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_hls_js_is_sent_gzipped_and_decompresses_to_the_file(client):
    original = (ROOT / "static/vendor/hls.js/hls.min.js").read_bytes()
    response = client.get("/static/vendor/hls.js/hls.min.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert len(response.data) < len(original) / 2 and gzip.decompress(response.data) == original
    again = client.get("/static/vendor/hls.js/hls.min.js", headers={"Accept-Encoding": "gzip",
                                                                     "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304  # a revisit downloads nothing


def test_without_gzip_or_with_a_range_the_file_is_sent_as_it_is(client):
    original = (ROOT / "static/vendor/hls.js/hls.min.js").read_bytes()
    plain = client.get("/static/vendor/hls.js/hls.min.js")
    assert "Content-Encoding" not in plain.headers and plain.data == original
    ranged = client.get("/static/vendor/hls.js/hls.min.js", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-99"})
    assert ranged.status_code == 206 and "Content-Encoding" not in ranged.headers and ranged.data == original[:100]
