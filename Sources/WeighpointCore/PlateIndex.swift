/// An index over a plate list that answers the three match kinds of Docs/decision-core.md in
/// microseconds for million-entry lists, with exactly the answers of `PlateList`.
///
/// Why this design: every match kind reduces to an exact-key lookup, so the index is two
/// hash tables of candidates plus a verification with the reference `plateMatchKind`:
/// - `lookalike` (and `exact`): both plates map to the same string once every character is
///   replaced by its look-alike class representative (0/O/D/Q → 0, …). One key per entry.
/// - `edit` (Levenshtein 1): the single-deletion neighbourhood of SymSpell. A substitution at i
///   leaves both plates equal after deleting i; an insertion into the query is undone by deleting
///   it from the entry; a deletion from the query makes the query equal to a deletion of the
///   entry. So indexing each entry and its n deletions, and probing the query and its n
///   deletions, finds every entry within one edit. Plates are 7–8 characters, so that is 9 keys
///   per entry and 9 probes per query, each an O(1) bucket read.
/// Alternatives weighed: a trie with a Levenshtein automaton visits many nodes near the root for
/// dense plate spaces (a province holds 10⁵–10⁶ plates under few prefixes), and per-position
/// bitmasks cost O(list size / 64) per query, ~15 000 words at 1 M entries. The candidate sets
/// here stay at a few dozen entries even for dense lists, and every candidate is verified, so a
/// hash collision can only cost time, never a wrong answer.
///
/// Memory is flat arrays (no per-entry objects): for 1 M plates about 170 MB. The index is
/// immutable; `PlateIndexHolder` swaps in a rebuilt one without blocking lookups.
public final class PlateIndex: Sendable {
    /// Entries in list order (normalised, de-duplicated).
    public let plates: [String]
    /// Scalars of every entry, concatenated; entry i spans `starts[i]..<starts[i+1]`.
    private let scalars: [UInt32]
    private let starts: [UInt32]
    private let lookalikeTable: CandidateTable
    private let deletionTable: CandidateTable

    /// Builds the index from plate texts, normalising each and dropping duplicates (as `PlateList`).
    public convenience init<S: Sequence>(_ entries: S) where S.Element == String {
        self.init(normalized: PlateList.normalizedUnique(entries))
    }

    init(normalized plates: [String]) {
        self.plates = plates
        var scalars: [UInt32] = []
        var starts: [UInt32] = [0]
        scalars.reserveCapacity(plates.count * 8)
        starts.reserveCapacity(plates.count + 1)
        for p in plates {
            for s in p.unicodeScalars { scalars.append(s.value) }
            starts.append(UInt32(scalars.count))
        }
        self.scalars = scalars
        self.starts = starts
        let n = plates.count
        self.lookalikeTable = CandidateTable(entryCount: n, keysPerEntryHint: 1) { emit in
            for i in 0..<n { emit(UInt32(i), PlateIndex.lookalikeHash(scalars, Int(starts[i]), Int(starts[i + 1]))) }
        }
        self.deletionTable = CandidateTable(entryCount: n, keysPerEntryHint: 9) { emit in
            for i in 0..<n {
                let lo = Int(starts[i]), hi = Int(starts[i + 1])
                emit(UInt32(i), PlateIndex.hash(scalars, lo, hi, skipping: -1))
                for skip in lo..<hi { emit(UInt32(i), PlateIndex.hash(scalars, lo, hi, skipping: skip)) }
            }
        }
    }

    public var count: Int { plates.count }

    /// Every entry matching `query` (normalised here), sorted by kind then plate: the same
    /// answer as `PlateList.matches(for:)`.
    public func matches(for query: String) -> [PlateMatch] {
        matches(normalizedScalars: Plate.normalize(query).unicodeScalars.map(\.value))
    }

    /// As `matches(for:)`, for an already normalised query given as scalar values.
    public func matches(normalizedScalars q: [UInt32]) -> [PlateMatch] {
        var candidates: [UInt32] = []
        candidates.reserveCapacity(32)
        lookalikeTable.collect(PlateIndex.lookalikeHash(q, 0, q.count), into: &candidates)
        deletionTable.collect(PlateIndex.hash(q, 0, q.count, skipping: -1), into: &candidates)
        for skip in 0..<q.count { deletionTable.collect(PlateIndex.hash(q, 0, q.count, skipping: skip), into: &candidates) }
        if candidates.isEmpty { return [] }
        candidates.sort()
        var out: [PlateMatch] = []
        var previous = UInt32.max
        q.withUnsafeBufferPointer { qb in
            scalars.withUnsafeBufferPointer { all in
                for c in candidates where c != previous {
                    previous = c
                    let entry = UnsafeBufferPointer(rebasing: all[Int(starts[Int(c)])..<Int(starts[Int(c) + 1])])
                    if let kind = plateMatchKind(values: qb, entry) { out.append(PlateMatch(plate: plates[Int(c)], kind: kind)) }
                }
            }
        }
        if out.count > 1 { out.sort(by: matchOrder) }
        return out
    }

    // MARK: Keys

    @inline(__always)
    static func mix(_ h: UInt64, _ v: UInt32) -> UInt64 { (h ^ UInt64(v)) &* 0x0000_0100_0000_01B3 }

    /// Final avalanche (MurmurHash3 fmix64) so bucket bits depend on every scalar.
    @inline(__always)
    static func finish(_ h0: UInt64, length: Int) -> UInt64 {
        var h = h0 ^ UInt64(length)
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 33)
    }

    /// FNV-1a over `s[lo..<hi]` without the scalar at `skip` (−1: none).
    @inline(__always)
    static func hash(_ s: [UInt32], _ lo: Int, _ hi: Int, skipping skip: Int) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for i in lo..<hi where i != skip { h = mix(h, s[i]) }
        return finish(h, length: hi - lo - (skip >= 0 ? 1 : 0))
    }

    @inline(__always)
    static func lookalikeHash(_ s: [UInt32], _ lo: Int, _ hi: Int) -> UInt64 {
        var h: UInt64 = 0x8422_2325_CBF2_9CE4
        for i in lo..<hi { h = mix(h, LookalikeSets.representative(s[i])) }
        return finish(h, length: hi - lo)
    }
}

/// A hash table from 64-bit keys to entry ids in compressed-sparse-row form: bucket b holds
/// `ids[offsets[b]..<offsets[b+1]]`. Two flat arrays, filled by a counting sort in two passes.
struct CandidateTable: Sendable {
    private let mask: UInt64
    private let offsets: [UInt32]
    private let ids: [UInt32]

    /// `produce` calls `emit(id, key)` for every key of every entry; it runs twice (count, fill)
    /// and must emit the same sequence both times.
    init(entryCount: Int, keysPerEntryHint: Int, produce: ((UInt32, UInt64) -> Void) -> Void) {
        // At least one bucket per key keeps chains short (≈0.5 foreign ids per probe) while the
        // offsets array stays within the memory budget.
        var buckets = 16
        while buckets < entryCount * keysPerEntryHint { buckets <<= 1 }
        let mask = UInt64(buckets - 1)
        // Count per bucket, turn counts into bucket ends, then fill each bucket from its end
        // backwards, which leaves `offsets[b]` at the bucket's start: no second offsets array.
        var offsets = [UInt32](repeating: 0, count: buckets + 1)
        produce { _, key in offsets[Int(key & mask)] &+= 1 }
        for b in 1..<buckets { offsets[b] &+= offsets[b - 1] }
        offsets[buckets] = offsets[buckets - 1]
        var ids = [UInt32](repeating: 0, count: Int(offsets[buckets]))
        produce { id, key in
            let b = Int(key & mask)
            offsets[b] &-= 1
            ids[Int(offsets[b])] = id
        }
        self.mask = mask
        self.offsets = offsets
        self.ids = ids
    }

    @inline(__always)
    func collect(_ key: UInt64, into out: inout [UInt32]) {
        let b = Int(key & mask)
        let lo = Int(offsets[b]), hi = Int(offsets[b + 1])
        if lo < hi { out.append(contentsOf: ids[lo..<hi]) }
    }
}
