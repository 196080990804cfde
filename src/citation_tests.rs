//! The repo documents itself (docs/contract.md): comments and docs cite the README, `docs/` or
//! an ATS's public documentation, never a document outside the repository or a machine path.

use std::path::{Path, PathBuf};

/// What no file may cite. Spelled in pieces so this file does not match itself.
const FORBIDDEN: &[&str] = &[
    concat!("SPEC", " §"),
    concat!("SPEC", ".md"),
    concat!("PROVIDERS", ".md"),
    concat!("../", "shared/"),
    concat!("/wo", "rk/"),
    concat!("/ro", "ot/"),
];

/// Files other engineers are editing this session whose comments still cite sections outside
/// the repo; each is cleaned up by its owner (remove the entry then).
const NOT_YET: &[&str] = &[];

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            let generated = [
                "target",
                "node_modules",
                "build",
                "dist",
                ".wrangler",
                "test-output",
                "results",
            ];
            if !generated.contains(&name.as_str()) {
                walk(&path, out);
            }
        } else {
            let text = ["rs", "mjs", "js", "md", "toml", "sh", "json", "html", "css"];
            if path
                .extension()
                .is_some_and(|e| text.contains(&e.to_string_lossy().as_ref()))
            {
                out.push(path);
            }
        }
    }
}

#[test]
fn comments_cite_only_the_repo_and_public_docs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![
        root.join("README.md"),
        root.join("Makefile"),
        root.join("wrangler.toml"),
    ];
    for dir in [
        "src", "tests", "bench", "scripts", "examples", "docs", "web", "openapi",
    ] {
        walk(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "the walk found the sources");
    let mut found = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if NOT_YET.contains(&rel.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        for (n, line) in text.lines().enumerate() {
            for bad in FORBIDDEN {
                // web/shared/ is the pages' own folder, imported by relative path.
                let own_folder = rel.starts_with("web/") && bad.starts_with("../");
                if line.contains(bad) && !own_folder {
                    found.push(format!("{rel}:{}: cites {bad:?}", n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "cite README/docs sections or the ATS's public docs instead:\n{}",
        found.join("\n")
    );
}
