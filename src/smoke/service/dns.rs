//! A minimal DNS client message: one question out, the answer section's addresses back.

use std::net::IpAddr;

use crate::recipe::DnsKind;

fn qtype(kind: DnsKind) -> u16 {
    match kind {
        DnsKind::A => 1,
        DnsKind::Aaaa => 28,
    }
}

/// A recursion-desired query with id `id` for `name` (labels separated by `.`).
pub fn query(id: u16, name: &str, kind: DnsKind) -> Vec<u8> {
    let mut q = Vec::with_capacity(512);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype(kind).to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    q
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, String> {
    b.get(at..at + 2)
        .map(|x| u16::from_be_bytes([x[0], x[1]]))
        .ok_or_else(|| format!("answer ends at byte {} (truncated)", b.len()))
}

/// The offset after the (possibly compressed) name at `at`.
fn skip_name(b: &[u8], mut at: usize) -> Result<usize, String> {
    loop {
        let len = *b.get(at).ok_or("a name runs past the end of the answer")? as usize;
        match len {
            0 => return Ok(at + 1),
            l if l & 0xC0 == 0xC0 => return Ok(at + 2),
            l => at += 1 + l,
        }
    }
}

/// The addresses of type `kind` in the answer `b` to query `id`, or why it is no answer.
pub fn answer(b: &[u8], id: u16, kind: DnsKind) -> Result<Vec<IpAddr>, String> {
    if u16_at(b, 0)? != id {
        return Err(format!(
            "answer id {} is not the query's {id}",
            u16_at(b, 0)?
        ));
    }
    let flags = u16_at(b, 2)?;
    if flags & 0x8000 == 0 {
        return Err("the message is a query, not a response".into());
    }
    if flags & 0x000F != 0 {
        return Err(format!("response code {} (not NOERROR)", flags & 0x000F));
    }
    let (qd, an) = (u16_at(b, 4)?, u16_at(b, 6)?);
    let mut at = 12;
    for _ in 0..qd {
        at = skip_name(b, at)? + 4;
    }
    let mut out = Vec::new();
    for _ in 0..an {
        at = skip_name(b, at)?;
        let (t, len) = (u16_at(b, at)?, u16_at(b, at + 8)? as usize);
        let data = b
            .get(at + 10..at + 10 + len)
            .ok_or("a record runs past the end of the answer")?;
        match (t, data.len()) {
            (1, 4) if kind == DnsKind::A => {
                out.push(IpAddr::from(<[u8; 4]>::try_from(data).expect("4 bytes")))
            }
            (28, 16) if kind == DnsKind::Aaaa => {
                out.push(IpAddr::from(<[u8; 16]>::try_from(data).expect("16 bytes")))
            }
            _ => {}
        }
        at += 10 + len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer a server gives to `q`: the question echoed, one record per address with a
    /// compressed name pointing at the question.
    pub fn respond(q: &[u8], rcode: u8, records: &[(u16, &[u8])]) -> Vec<u8> {
        let mut r = q.to_vec();
        r[2] = 0x81;
        r[3] = 0x80 | rcode;
        r[7] = records.len() as u8;
        for (t, data) in records {
            r.extend_from_slice(&[0xC0, 12]);
            r.extend_from_slice(&t.to_be_bytes());
            r.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            r.extend_from_slice(&(data.len() as u16).to_be_bytes());
            r.extend_from_slice(data);
        }
        r
    }

    #[test]
    fn query_encodes_labels_type_and_class() {
        let q = query(0x1234, "hello.test.", DnsKind::A);
        assert_eq!(&q[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(&q[12..], b"\x05hello\x04test\x00\x00\x01\x00\x01");
        assert_eq!(&query(1, "a", DnsKind::Aaaa)[15..17], &[0, 28]);
    }

    #[test]
    fn answer_reads_addresses_of_the_asked_type() {
        let q = query(7, "hello.test", DnsKind::A);
        let r = respond(&q, 0, &[(5, b"\x01x\x00"), (1, &[10, 0, 0, 7])]);
        assert_eq!(
            answer(&r, 7, DnsKind::A).unwrap(),
            vec!["10.0.0.7".parse::<IpAddr>().unwrap()]
        );
        let six = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let r = respond(&query(8, "h", DnsKind::Aaaa), 0, &[(28, &six)]);
        assert_eq!(
            answer(&r, 8, DnsKind::Aaaa).unwrap(),
            vec!["::1".parse::<IpAddr>().unwrap()]
        );
    }

    #[test]
    fn answer_refuses_wrong_id_error_codes_queries_and_truncation() {
        let q = query(7, "hello.test", DnsKind::A);
        let r = respond(&q, 0, &[(1, &[10, 0, 0, 7])]);
        assert!(answer(&r, 8, DnsKind::A).unwrap_err().contains("id"));
        assert!(
            answer(&respond(&q, 3, &[]), 7, DnsKind::A)
                .unwrap_err()
                .contains("code 3")
        );
        assert!(answer(&q, 7, DnsKind::A).unwrap_err().contains("query"));
        assert!(
            answer(&r[..r.len() - 2], 7, DnsKind::A)
                .unwrap_err()
                .contains("past the end")
        );
    }
}
