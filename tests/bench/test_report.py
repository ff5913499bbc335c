from bench import report


def test_update_docs_replaces_only_the_generated_block(tmp_path):
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"# Title\n\nbefore\n\n{report.BEGIN}\nold\n{report.END}\n\nafter\n")
    report.update_docs(docs, "new tables")
    text = docs.read_text()
    assert "old" not in text
    assert text.index("before") < text.index("new tables") < text.index("after")


def test_update_docs_appends_the_block_when_absent(tmp_path):
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Title\n")
    report.update_docs(docs, "tables")
    assert docs.read_text().endswith(f"{report.BEGIN}\n\ntables\n\n{report.END}\n")


def test_the_uvicorn_target_has_its_own_column_beside_daphne():
    documents = [
        {
            "target": name,
            "title": title,
            "run": "2026-11-29T12:00:00Z",
            "scenarios": {"room": {"ok": True, "latency_ms": {"p99": 10.0}}},
        }
        for name, title in (
            ("websockets", "raw websockets"),
            ("app-uvicorn", "this project (uvicorn)"),
            ("app", "this project (Daphne)"),
        )
    ]
    header = report.scenario_table("room", report.ordered(documents))[0]
    assert header == "|  | this project (Daphne) | this project (uvicorn) | raw websockets |"
