import WeighpointCore

/// Deterministic plate lists and queries shaped like a province's real registrations, for
/// benchmarks and the demo: most plates from one province and a few authority letters, mostly
/// digits in the serial, some new-energy and trailer plates. Dense, like real lists, so that
/// look-alike and one-edit neighbours exist.
public struct SyntheticPlates {
    private var rng: SplitMix64

    public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    static let provinces = Array("苏苏苏苏苏苏浙皖鲁沪豫京粤")
    static let letters = Array("ABCDEFGHJKLMN")
    static let digits = Array("0123456789")
    static let serialLetters = Array("ABCDEFGHJKLMNPQRSTUVWXYZ")

    /// One GA 36-valid plate.
    public mutating func plate() -> String {
        var s = String(Self.provinces[Int(rng.next() % UInt64(Self.provinces.count))])
        s.append(Self.letters[Int(rng.next() % UInt64(Self.letters.count))])
        func digit() -> Character { Self.digits[Int(rng.next() % 10)] }
        func serialChar() -> Character {
            rng.next() % 5 == 0 ? Self.serialLetters[Int(rng.next() % UInt64(Self.serialLetters.count))] : digit()
        }
        switch rng.next() % 100 {
        case 0..<6:
            s.append(rng.next() % 2 == 0 ? "D" : "F")
            s.append(serialChar())
            for _ in 0..<4 { s.append(digit()) }
        case 6..<10:
            for _ in 0..<5 { s.append(digit()) }
            s.append(rng.next() % 2 == 0 ? "D" : "F")
        case 10..<20:
            for _ in 0..<4 { s.append(serialChar()) }
            s.append("挂")
        default:
            for _ in 0..<5 { s.append(serialChar()) }
        }
        return s
    }

    /// `count` distinct plates.
    public mutating func list(count: Int) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        out.reserveCapacity(count)
        while out.count < count {
            let p = plate()
            if seen.insert(p).inserted { out.append(p) }
        }
        return out
    }

    /// Queries as a camera would produce them about a list: a quarter exact reads of listed
    /// plates, a quarter with one or two look-alike confusions, a quarter with one edit
    /// (substitution, dropped or extra character), a quarter unrelated plates.
    public mutating func queries(count: Int, about list: [String]) -> [String] {
        let confusions: [Character: [Character]] = [
            "0": ["D", "Q"], "D": ["0"], "Q": ["0"], "1": ["7"], "7": ["1"], "2": ["Z"], "Z": ["2"],
            "5": ["S"], "S": ["5"], "8": ["B"], "B": ["8"], "6": ["G"], "G": ["6"],
        ]
        var out: [String] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            var p = Array(list[Int(rng.next() % UInt64(list.count))])
            switch i % 4 {
            case 0: break
            case 1:
                var changed = 0
                for j in 2..<p.count where changed < 2 && rng.next() % 3 == 0 {
                    if let alts = confusions[p[j]] {
                        p[j] = alts[Int(rng.next() % UInt64(alts.count))]
                        changed += 1
                    }
                }
            case 2:
                let j = 2 + Int(rng.next() % UInt64(p.count - 2))
                switch rng.next() % 3 {
                case 0: p[j] = Self.digits[Int(rng.next() % 10)]
                case 1: p.remove(at: j)
                default: p.insert(Self.digits[Int(rng.next() % 10)], at: j)
                }
            default: p = Array(plate())
            }
            out.append(String(p))
        }
        return out
    }
}

/// SplitMix64: small, fast, and the same sequence on every machine, so seeded tests and
/// benchmarks repeat exactly.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
