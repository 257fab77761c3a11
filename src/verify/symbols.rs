//! The symbol names the deep check asks about (NSS, shell and dlopen functions), read from
//! `.dynsym` and `.symtab`. A leaf module.

use std::collections::BTreeSet;

use goblin::elf::Elf;

/// Functions that make glibc consult NSS (and so `dlopen` `libnss_*.so.2`, even when static).
pub(super) const NSS_FUNCTIONS: &[&str] = &[
    "getpwnam",
    "getpwnam_r",
    "getpwuid",
    "getpwuid_r",
    "getpwent",
    "getgrnam",
    "getgrnam_r",
    "getgrgid",
    "getgrgid_r",
    "getgrent",
    "getgrouplist",
    "initgroups",
    "getaddrinfo",
    "gethostbyname",
    "gethostbyname2",
    "gethostbyname_r",
    "gethostbyaddr",
    "getnameinfo",
    "getservbyname",
    "getservbyport",
    "getprotobyname",
    "getspnam",
];

pub(super) const SHELL_FUNCTIONS: &[&str] = &[
    "system",
    "popen",
    "execl",
    "execlp",
    "execle",
    "execv",
    "execvp",
    "execvpe",
    "posix_spawn",
    "posix_spawnp",
    "wordexp",
];

/// Symbol names from `.dynsym` and `.symtab` (imports and, when not stripped, definitions).
/// Of the symbol names the deep check asks about (NSS, shell and dlopen functions), those the
/// binary imports (`.dynsym`) or, with `symtab`, defines (`.symtab`: only worth reading for a
/// static glibc, whose NSS calls have no other trace; a large Go binary has 100,000 symbols).
pub(super) struct Symbols {
    names: BTreeSet<&'static str>,
}

pub(super) const DLOPEN_FUNCTIONS: &[&str] = &["dlopen", "dlmopen", "dlsym", "dlvsym"];

impl Symbols {
    pub(super) fn of(bytes: &[u8], elf: &Elf<'_>, symtab: bool) -> Symbols {
        use std::collections::HashSet;
        use std::sync::OnceLock;
        static WANTED: OnceLock<HashSet<&'static str>> = OnceLock::new();
        let wanted = WANTED.get_or_init(|| {
            NSS_FUNCTIONS
                .iter()
                .chain(SHELL_FUNCTIONS)
                .chain(DLOPEN_FUNCTIONS)
                .copied()
                .collect()
        });
        let mut names = BTreeSet::new();
        let mut look = |name: Option<&str>| {
            if let Some(w) = name.and_then(|n| wanted.get(strip_version(n))) {
                names.insert(*w);
            }
        };
        // Imports only: what a dynamic executable defines in .dynsym it exports (a cgo binary
        // exports its whole Go runtime, 170,000 names for dockerd), and exports call nothing.
        for s in elf.dynsyms.iter().filter(|s| s.st_shndx == 0) {
            look(elf.dynstrtab.get_at(s.st_name));
        }
        if symtab {
            for s in elf.syms.iter() {
                look(super::lean::symtab_name(bytes, elf, s.st_name));
            }
        }
        Symbols { names }
    }

    pub(super) fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

fn strip_version(n: &str) -> &str {
    n.split_once('@').map_or(n, |(name, _)| name)
}
