//! Reaching a smoke run's network namespace from `recipe`. A socket belongs to the namespace
//! it was made in, and `connect`, `bind` and `listen` act there, whoever calls them: so the
//! sandbox's outer process (which is in the new network namespace; only the PID namespace is
//! for children) makes sockets on request and passes them to `recipe` over a unix socket
//! (`SCM_RIGHTS`), and `recipe` connects, binds and listens on them ([`Net`]).
//!
//! The protocol, one `SOCK_SEQPACKET` message each way: `T` (a TCP socket), `U` (a UDP
//! socket), `P` (the pid of the sandbox's PID 1, for `--join`), `G` (start the step: its
//! servers listen first). The answer is `0` (with the socket's descriptor, or four bytes of
//! pid), or `1` and an errno.

use std::io;
use std::net::{SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;
use std::time::Duration;

/// Brings the loopback interface of this process's network namespace up.
pub(super) fn lo_up() -> Result<(), String> {
    #[repr(C)]
    struct IfReq {
        name: [libc::c_char; libc::IFNAMSIZ],
        flags: libc::c_short,
        pad: [u8; 24],
    }
    let fail = |what: &str| {
        format!(
            "cannot {what} the loopback interface: {}",
            io::Error::last_os_error()
        )
    };
    // SAFETY: a socket we own, ioctls on a struct laid out as `struct ifreq` (name, flags,
    // the rest of the union).
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(fail("reach"));
        }
        let fd = OwnedFd::from_raw_fd(fd);
        let mut req: IfReq = std::mem::zeroed();
        for (i, b) in b"lo".iter().enumerate() {
            req.name[i] = *b as libc::c_char;
        }
        if libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) != 0 {
            return Err(fail("read"));
        }
        req.flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(fd.as_raw_fd(), libc::SIOCSIFFLAGS, &req) != 0 {
            return Err(fail("bring up"));
        }
    }
    Ok(())
}

/// The outer process's side: answers `recipe`'s requests on `fd`; `G` writes the go to PID 1
/// (`go_w`, closed at the end: PID 1 then knows no go will come). It runs on the outer
/// process's one thread (a process that unshared a PID namespace cannot make threads), in
/// [`super::init`]'s loop, one request per [`Server::answer`].
pub(super) struct Server {
    pub fd: RawFd,
    pub init_pid: i32,
    pub go_w: Option<RawFd>,
}

impl Server {
    /// Answers one request; false when `recipe` closed its end (or it cannot be answered).
    pub fn answer(&mut self) -> bool {
        let fd = self.fd;
        let mut b = [0u8; 1];
        // SAFETY: a read into our buffer from the descriptor we were given.
        let n = unsafe { libc::recv(fd, b.as_mut_ptr().cast(), 1, 0) };
        if n <= 0 {
            self.close_go();
            return false;
        }
        let made = |kind| {
            // SAFETY: socket(2); the descriptor is sent and then closed here.
            let s = unsafe { libc::socket(libc::AF_INET, kind | libc::SOCK_CLOEXEC, 0) };
            if s < 0 {
                Err(io::Error::last_os_error())
            } else {
                // SAFETY: a fresh descriptor.
                Ok(unsafe { OwnedFd::from_raw_fd(s) })
            }
        };
        match b[0] {
            b'T' => answer_fd(fd, made(libc::SOCK_STREAM)),
            b'U' => answer_fd(fd, made(libc::SOCK_DGRAM)),
            b'P' => send_bytes(fd, &[&[0u8][..], &self.init_pid.to_ne_bytes()].concat()),
            b'G' => {
                if let Some(w) = self.go_w.take() {
                    // SAFETY: one byte to PID 1's pipe, then our end closed.
                    unsafe {
                        libc::write(w, [1u8].as_ptr().cast(), 1);
                        libc::close(w);
                    }
                }
                send_bytes(fd, &[0])
            }
            _ => send_bytes(fd, &[1, 0, 0, 0, 0]),
        }
    }

    /// Closes the go pipe unless the go was given: PID 1 reads EOF and gives up.
    pub fn close_go(&mut self) {
        if let Some(w) = self.go_w.take() {
            // SAFETY: closing our pipe end.
            unsafe { libc::close(w) };
        }
    }
}

fn send_bytes(fd: RawFd, bytes: &[u8]) -> bool {
    // SAFETY: a send of our buffer.
    unsafe { libc::send(fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL) >= 0 }
}

fn answer_fd(fd: RawFd, made: io::Result<OwnedFd>) -> bool {
    let s = match made {
        Ok(s) => s,
        Err(e) => {
            let errno = e.raw_os_error().unwrap_or(libc::EIO);
            return send_bytes(fd, &[&[1u8][..], &errno.to_ne_bytes()].concat());
        }
    };
    let data = [0u8];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut _,
        iov_len: 1,
    };
    let mut control = FdControl::new();
    let msg = control.msghdr(&mut iov);
    // SAFETY: the header's control buffer has room for one SCM_RIGHTS cmsg; `iov` and
    // `control` outlive the call.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), s.as_raw_fd());
        libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) >= 0
    }
}

/// The control buffer of a message that carries one descriptor (`SCM_RIGHTS`), for both
/// ends: [`answer_fd`] sends one, [`Net::ask`] receives one.
struct FdControl {
    /// Aligned as `cmsghdr` needs (it holds a `size_t`).
    buf: Vec<u64>,
    /// `CMSG_SPACE` of one descriptor: the bytes of `buf` in use.
    space: usize,
}

impl FdControl {
    fn new() -> FdControl {
        // SAFETY: CMSG_SPACE only computes a size.
        let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
        FdControl {
            buf: vec![0u64; space.div_ceil(8)],
            space,
        }
    }

    /// A message header over the one buffer `iov` and this control buffer; both must outlive
    /// every use of the header.
    fn msghdr(&mut self, iov: &mut libc::iovec) -> libc::msghdr {
        // SAFETY: msghdr is plain data, and all zeroes is an empty one.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = iov;
        msg.msg_iovlen = 1;
        msg.msg_control = self.buf.as_mut_ptr().cast();
        msg.msg_controllen = self.space as _;
        msg
    }
}

/// How `recipe` reaches the app of a smoke test: on this machine ([`Net::Host`]: unit tests,
/// `recipe test`'s published ports) or in the smoke sandbox's network namespace.
pub enum Net {
    Host,
    Sandbox {
        sock: Mutex<OwnedFd>,
        init_pid: Mutex<Option<i32>>,
    },
}

/// How long `recipe` waits for the sandbox to answer a request.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

impl Net {
    /// A `Net` for a sandbox about to start, and the end to give it (`--net-fd`).
    pub fn pair() -> io::Result<(Net, OwnedFd)> {
        let mut fds = [0; 2];
        // SAFETY: socketpair(2) fills two descriptors, both closed on exec (the sandbox's end
        // is moved to a fixed number without the flag in its child).
        if unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: two fresh descriptors, each owned once.
        let (ours, theirs) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let tv = libc::timeval {
            tv_sec: ANSWER_TIMEOUT.as_secs() as _,
            tv_usec: 0,
        };
        // SAFETY: setsockopt(2) with a timeval we own.
        unsafe {
            libc::setsockopt(
                ours.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as u32,
            );
        }
        Ok((
            Net::Sandbox {
                sock: Mutex::new(ours),
                init_pid: Mutex::new(None),
            },
            theirs,
        ))
    }

    /// Sends one request and reads its answer (bytes after the status, and a descriptor).
    fn ask(&self, what: u8) -> io::Result<(Vec<u8>, Option<OwnedFd>)> {
        let Net::Sandbox { sock, .. } = self else {
            return Err(io::Error::other("not a sandbox"));
        };
        let sock = sock.lock().unwrap_or_else(|e| e.into_inner());
        let fd = sock.as_raw_fd();
        if !send_bytes(fd, &[what]) {
            return Err(io::Error::other(format!(
                "the sandbox is gone: {}",
                io::Error::last_os_error()
            )));
        }
        let mut data = [0u8; 8];
        let mut iov = libc::iovec {
            iov_base: data.as_mut_ptr().cast(),
            iov_len: data.len(),
        };
        let mut control = FdControl::new();
        let mut msg = control.msghdr(&mut iov);
        // SAFETY: recvmsg(2) into our buffers (`iov` and `control` outlive it); a descriptor
        // received is owned once below.
        let (n, got) = unsafe {
            let n = libc::recvmsg(fd, &mut msg, libc::MSG_CMSG_CLOEXEC);
            let mut got = None;
            if n > 0 {
                let c = libc::CMSG_FIRSTHDR(&msg);
                if !c.is_null()
                    && (*c).cmsg_level == libc::SOL_SOCKET
                    && (*c).cmsg_type == libc::SCM_RIGHTS
                {
                    let raw = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<RawFd>());
                    got = Some(OwnedFd::from_raw_fd(raw));
                }
            }
            (n, got)
        };
        if n < 0 {
            return Err(io::Error::other(format!(
                "the sandbox did not answer: {}",
                io::Error::last_os_error()
            )));
        }
        if n == 0 {
            return Err(io::Error::other("the sandbox ended"));
        }
        let n = n as usize;
        if data[0] != 0 {
            let errno = i32::from_ne_bytes(data[1..5].try_into().expect("4 bytes"));
            return Err(io::Error::from_raw_os_error(errno));
        }
        Ok((data[1..n].to_vec(), got))
    }

    fn socket(&self, what: u8) -> io::Result<OwnedFd> {
        self.ask(what)?
            .1
            .ok_or_else(|| io::Error::other("the sandbox sent no socket"))
    }

    /// Starts the sandbox's step (after `recipe`'s servers listen). Nothing for the host.
    pub fn go(&self) -> io::Result<()> {
        match self {
            Net::Host => Ok(()),
            Net::Sandbox { .. } => self.ask(b'G').map(|_| ()),
        }
    }

    /// The pid (in `recipe`'s PID namespace) of the sandbox's PID 1, for `--join`.
    pub fn init_pid(&self) -> io::Result<Option<i32>> {
        let Net::Sandbox { init_pid, .. } = self else {
            return Ok(None);
        };
        if let Some(p) = *init_pid.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(Some(p));
        }
        let (bytes, _) = self.ask(b'P')?;
        let pid = bytes
            .get(..4)
            .map(|b| i32::from_ne_bytes(b.try_into().expect("4 bytes")))
            .ok_or_else(|| io::Error::other("the sandbox sent no pid"))?;
        *init_pid.lock().unwrap_or_else(|e| e.into_inner()) = Some(pid);
        Ok(Some(pid))
    }

    /// The `/proc` folder of the namespace's network tables (`udp`, `udp6`...).
    pub fn proc_net(&self) -> io::Result<std::path::PathBuf> {
        Ok(match self.init_pid()? {
            Some(pid) => format!("/proc/{pid}/net").into(),
            None => "/proc/net".into(),
        })
    }

    /// A TCP connection to `addr`, given up after `timeout`.
    pub fn connect(&self, addr: SocketAddrV4, timeout: Duration) -> io::Result<TcpStream> {
        if let Net::Host = self {
            return TcpStream::connect_timeout(&SocketAddr::V4(addr), timeout);
        }
        let s = self.socket(b'T')?;
        let fd = s.as_raw_fd();
        let sa = sockaddr(addr);
        // SAFETY: fcntl, connect and poll on the socket we own, with a sockaddr_in we own.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
            let r = libc::connect(
                fd,
                (&sa as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as u32,
            );
            if r != 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::EINPROGRESS) {
                    return Err(e);
                }
                let mut p = libc::pollfd {
                    fd,
                    events: libc::POLLOUT,
                    revents: 0,
                };
                let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as i32;
                match libc::poll(&mut p, 1, ms) {
                    0 => return Err(io::Error::from(io::ErrorKind::TimedOut)),
                    n if n < 0 => return Err(io::Error::last_os_error()),
                    _ => {}
                }
                let mut err: libc::c_int = 0;
                let mut len = std::mem::size_of::<libc::c_int>() as u32;
                libc::getsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_ERROR,
                    (&mut err as *mut libc::c_int).cast(),
                    &mut len,
                );
                if err != 0 {
                    return Err(io::Error::from_raw_os_error(err));
                }
            }
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
        Ok(TcpStream::from(s))
    }

    /// A UDP socket bound to `addr`.
    pub fn udp(&self, addr: SocketAddrV4) -> io::Result<UdpSocket> {
        if let Net::Host = self {
            return UdpSocket::bind(addr);
        }
        let s = self.socket(b'U')?;
        bind(&s, addr)?;
        Ok(UdpSocket::from(s))
    }

    /// A TCP listener on `addr`.
    pub fn listen(&self, addr: SocketAddrV4) -> io::Result<TcpListener> {
        if let Net::Host = self {
            return TcpListener::bind(addr);
        }
        let s = self.socket(b'T')?;
        let one: libc::c_int = 1;
        // SAFETY: setsockopt and listen on the socket we own.
        unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as u32,
            );
        }
        bind(&s, addr)?;
        // SAFETY: as above.
        if unsafe { libc::listen(s.as_raw_fd(), 128) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(TcpListener::from(s))
    }
}

fn sockaddr(addr: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*addr.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

fn bind(s: &OwnedFd, addr: SocketAddrV4) -> io::Result<()> {
    let sa = sockaddr(addr);
    // SAFETY: bind(2) of our socket to a sockaddr_in we own.
    let r = unsafe {
        libc::bind(
            s.as_raw_fd(),
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as u32,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
