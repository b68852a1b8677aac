import PropertyBased
import Testing
import WeighpointTesting
@testable import WeighpointCore

/// Plates from a deliberately small alphabet full of look-alikes, so random lists are dense
/// and queries hit many exact, look-alike and one-edit neighbours: 2–3 provinces, two letters,
/// 5 serial characters (7), new-energy 6 (8), trailers and the odd short or long read.
func densePlate(_ rng: inout some RandomNumberGenerator) -> String {
    let provinces = ["苏", "浙", "粤"], letters = ["A", "B"]
    let serial: [Character] = ["0", "D", "Q", "1", "7", "5", "S", "8", "3"]
    var s = provinces.randomElement(using: &rng)! + letters.randomElement(using: &rng)!
    switch Int.random(in: 0..<10, using: &rng) {
    case 0: s += "D" + String((0..<5).map { _ in serial.randomElement(using: &rng)! })  // new-energy small
    case 1: s += String((0..<5).map { _ in serial.randomElement(using: &rng)! }) + "F"  // new-energy large
    case 2: s += String((0..<4).map { _ in serial.randomElement(using: &rng)! }) + "挂"
    case 3: s += String((0..<Int.random(in: 2...7, using: &rng)).map { _ in serial.randomElement(using: &rng)! })
    default: s += String((0..<5).map { _ in serial.randomElement(using: &rng)! })
    }
    return s
}

/// A query near `plate`: unchanged, one substitution, look-alike swaps, an insertion or a deletion.
func mutate(_ plate: String, _ rng: inout some RandomNumberGenerator) -> String {
    var s = Array(plate)
    let i = Int.random(in: 0..<s.count, using: &rng)
    switch Int.random(in: 0..<6, using: &rng) {
    case 0: break
    case 1: s[i] = ["0", "D", "5", "X", "苏"].randomElement(using: &rng)!
    case 2: s.remove(at: i)
    case 3: s.insert(["7", "S", "Q"].randomElement(using: &rng)!, at: i)
    case 4:
        for j in [i, (i + 3) % s.count] {
            let sets: [[Character]] = [["0", "D", "Q"], ["1", "7"], ["5", "S"], ["8", "B"]]
            if let set = sets.first(where: { $0.contains(s[j]) }) { s[j] = set.randomElement(using: &rng)! }
        }
    default: s.removeLast()
    }
    return String(s)
}

@Suite struct PlateIndexTests {
    @Test func equalsThePlainListOnDenseRandomLists() {
        var rng = SplitMix64(seed: 7)
        for round in 0..<4 {
            let entries = (0..<3000).map { _ in densePlate(&rng) }
            let list = PlateList(entries), index = PlateIndex(entries)
            #expect(index.plates == list.plates)
            var nonEmpty = 0
            for k in 0..<600 {
                let q = k % 5 == 4 ? densePlate(&rng) : mutate(entries.randomElement(using: &rng)!, &rng)
                let expected = list.matches(for: q)
                #expect(index.matches(for: q) == expected, "round \(round) query \(q)")
                if expected.count > 1 { nonEmpty += 1 }
            }
            #expect(nonEmpty > 60, "the lists are dense enough to exercise several matches per query")
        }
    }

    @Test func equalsThePlainListForArbitraryText() async {
        // Property: any list and any query, including non-plates, short and long strings.
        let text = Gen<Character?>.element(of: Array("苏浙0ODQ17I5S8BZ2挂AX ·")).map { $0! }.string(of: 0...9)
        await propertyCheck(count: 300, input: text.array(of: 0...40), text) { entries, query in
            #expect(PlateIndex(entries).matches(for: query) == PlateList(entries).matches(for: query))
        }
    }

    @Test func edgeCases() {
        #expect(PlateIndex([String]()).matches(for: "苏A12345").isEmpty)
        let index = PlateIndex(["苏A12345", "苏a12345", "苏A·12345", "A", "苏A1234S"])
        #expect(index.count == 3, "duplicates after normalisation collapse")
        #expect(index.matches(for: "").map(\.plate) == ["A"], "an empty query is one insertion from a one-character entry")
        #expect(index.matches(for: "苏A12345").map(\.kind) == [.exact, .lookalike])
        #expect(index.matches(for: "苏A1234567").isEmpty, "two insertions")
        #expect(index.matches(for: "苏Ａ１２３４５") == index.matches(for: "苏A12345"), "queries are normalised")
    }

    @Test func holderSwapsWhileLookupsRun() async {
        let before = PlateIndex(["苏A12345"]), after = PlateIndex(["苏A12345", "苏A12346"])
        let holder = PlateIndexHolder(before)
        await withTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    (0..<2000).map { _ in holder.index.matches(for: "苏A12345").count }
                }
            }
            group.addTask {
                holder.replace(with: after)
                return []
            }
            for await counts in group {
                #expect(counts.allSatisfy { $0 == 1 || $0 == 2 })
            }
        }
        #expect(holder.index.matches(for: "苏A12345").count == 2)
    }
}
