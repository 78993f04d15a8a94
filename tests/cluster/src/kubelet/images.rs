//! Images: which local program runs for a container's `image`, `command` and `args`.
//!
//! An image listed in `KubeletConfig.images` stands for a distroless image holding one
//! binary (like deploy/Dockerfile): ENTRYPOINT the binary, USER 65532:65532, so a `command`
//! naming the binary (`cairn`, `/cairn`, `/usr/local/bin/cairn`, any path ending in the
//! binary's name) runs it and any other command fails as "executable file not found".
//! The test-only image [`HOST_IMAGE`] runs its command from the host, as root.

use std::path::{Path, PathBuf};

/// Test-only image whose `command` is a host program (e.g. `/bin/sh -c ...`).
pub const HOST_IMAGE: &str = "test.cairn.dev/host";

/// USER of a listed image (distroless `nonroot`).
pub const NONROOT: (u32, u32) = (65532, 65532);

/// A pullable image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Image {
    /// A single-binary image: its ENTRYPOINT is `binary`.
    Binary {
        /// The local binary.
        binary: PathBuf,
    },
    /// [`HOST_IMAGE`].
    Host,
}

impl Image {
    /// The image's USER (uid, gid).
    pub fn user(&self) -> (u32, u32) {
        match self {
            Self::Binary { .. } => NONROOT,
            Self::Host => (0, 0),
        }
    }
}

/// The repository of an image reference (without `:tag` and `@digest`).
pub fn repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        Some(i) if !image[i..].contains('/') => &image[..i],
        _ => image,
    }
}

/// The image `reference` pulls, if it is known.
pub fn resolve(images: &[(String, PathBuf)], reference: &str) -> Option<Image> {
    let repo = repository(reference);
    if repo == HOST_IMAGE {
        return Some(Image::Host);
    }
    images
        .iter()
        .find(|(r, _)| r == repo)
        .map(|(_, binary)| Image::Binary {
            binary: binary.clone(),
        })
}

/// The program and arguments a container runs (`command` replaces ENTRYPOINT, `args`
/// replaces CMD), or the runtime's start error.
pub fn program(
    image: &Image,
    command: &[String],
    args: &[String],
) -> Result<(PathBuf, Vec<String>), String> {
    match image {
        Image::Binary { binary } => {
            let Some((first, rest)) = command.split_first() else {
                return Ok((binary.clone(), args.to_vec()));
            };
            let name = binary
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("cairn");
            if first == name || first.ends_with(&format!("/{name}")) {
                let mut all = rest.to_vec();
                all.extend_from_slice(args);
                Ok((binary.clone(), all))
            } else {
                Err(not_found(first))
            }
        }
        Image::Host => {
            let mut all: Vec<String> = command.iter().chain(args).cloned().collect();
            if all.is_empty() {
                return Err("no command specified".to_owned());
            }
            let first = all.remove(0);
            Ok((Path::new(&first).to_owned(), all))
        }
    }
}

fn not_found(cmd: &str) -> String {
    format!(
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: \
         runc create failed: unable to start container process: exec: \"{cmd}\": executable file not found in $PATH: unknown"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images() -> Vec<(String, PathBuf)> {
        vec![(
            "ghcr.io/cairn-backup/cairn".into(),
            PathBuf::from("/bin-under-test/cairn"),
        )]
    }

    #[test]
    fn repositories_drop_tags_and_digests() {
        assert_eq!(
            repository("ghcr.io/cairn-backup/cairn:v0.1.0"),
            "ghcr.io/cairn-backup/cairn"
        );
        assert_eq!(repository("ghcr.io/x/y@sha256:abc"), "ghcr.io/x/y");
        assert_eq!(repository("localhost:5000/y"), "localhost:5000/y");
        assert_eq!(repository("localhost:5000/y:1"), "localhost:5000/y");
    }

    #[test]
    fn known_and_unknown_images() {
        let cairn = resolve(&images(), "ghcr.io/cairn-backup/cairn:v0.1.0").unwrap();
        assert_eq!(cairn.user(), NONROOT);
        assert_eq!(
            resolve(&images(), "test.cairn.dev/host:latest"),
            Some(Image::Host)
        );
        assert_eq!(resolve(&images(), "busybox"), None);
    }

    #[test]
    fn commands_naming_the_binary_run_it() {
        let img = resolve(&images(), "ghcr.io/cairn-backup/cairn").unwrap();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let bin = PathBuf::from("/bin-under-test/cairn");
        for cmd in [&["cairn"][..], &["/cairn"], &["/usr/local/bin/cairn"]] {
            assert_eq!(
                program(&img, &s(cmd), &s(&["--version"])),
                Ok((bin.clone(), s(&["--version"])))
            );
        }
        assert_eq!(
            program(&img, &s(&["cairn", "exec", "dump"]), &s(&["--x"])),
            Ok((bin.clone(), s(&["exec", "dump", "--x"])))
        );
        assert_eq!(
            program(&img, &[], &s(&["operator"])),
            Ok((bin, s(&["operator"])))
        );
        assert!(program(&img, &s(&["/bin/sh"]), &[])
            .unwrap_err()
            .contains("executable file not found"));
    }

    #[test]
    fn the_host_image_runs_host_programs() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            program(&Image::Host, &s(&["/bin/sh", "-c"]), &s(&["echo hi"])),
            Ok((PathBuf::from("/bin/sh"), s(&["-c", "echo hi"])))
        );
        assert!(program(&Image::Host, &[], &[]).is_err());
    }
}
