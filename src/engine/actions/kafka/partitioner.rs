//! The partition a message goes to when the step names none: for a keyed message the one
//! Kafka's own Java client picks (murmur2 of the key, so the same key lands where the
//! application's producer puts it); without a key, partition 0.

/// The partition of a message with `key` among `count` partitions.
pub fn partition_for(key: Option<&[u8]>, count: usize) -> i32 {
    match key {
        Some(key) if count > 0 => {
            let positive = murmur2(key) & 0x7fff_ffff;
            (positive as usize % count) as i32
        }
        _ => 0,
    }
}

/// The 32-bit murmur2 hash as Kafka computes it (seed 0x9747b28c).
fn murmur2(data: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h: u32 = 0x9747_b28c ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from the Java client's own test of its murmur2 (`UtilsTest.testMurmur2`).
    #[test]
    fn murmur2_matches_the_java_client() {
        assert_eq!(murmur2(b"21") as i32, -973932308);
        assert_eq!(murmur2(b"foobar") as i32, -790332482);
        assert_eq!(murmur2(b"a-little-bit-long-string") as i32, -985981536);
        assert_eq!(murmur2(b"a-little-bit-longer-string") as i32, -1486304829);
        assert_eq!(
            murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") as i32,
            -58897971
        );
        assert_eq!(murmur2(b"abc") as i32, 479470107);
    }

    #[test]
    fn keyless_messages_go_to_partition_zero_and_keys_stay_put() {
        assert_eq!(partition_for(None, 6), 0);
        let first = partition_for(Some(b"order-7"), 6);
        assert_eq!(partition_for(Some(b"order-7"), 6), first);
        assert!((0..6).contains(&first));
    }
}
