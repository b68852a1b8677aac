import PropertyBased
import Testing
@testable import WeighpointCore

/// Levenshtein distance by the textbook dynamic programme: the oracle for `edit`.
func levenshtein(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    var prev = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var cur = [i] + Array(repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        prev = cur
    }
    return prev[b.count]
}

/// Docs/decision-core.md's definition written out a second way, as an oracle.
func oracleKind(_ a: String, _ b: String) -> PlateMatchKind? {
    let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
    if x == y { return .exact }
    if x.count == y.count {
        let diffs = zip(x, y).filter { $0 != $1 }
        if diffs.count <= 2 && diffs.allSatisfy({ p in LookalikeSets.sets.contains { $0.contains(p.0) && $0.contains(p.1) } }) {
            return .lookalike
        }
    }
    return levenshtein(x, y) == 1 ? .edit : nil
}

@Suite struct PlateMatchingTests {
    @Test(arguments: [
        ("苏A12345", "苏A12345", PlateMatchKind?.some(.exact)),
        ("苏A12345", "苏A1234S", .lookalike),
        ("苏A12345", "苏A1Z34S", .lookalike),
        ("苏A12385", "苏A1Z3B5", .lookalike),
        ("苏A12385", "苏A1Z3BS", nil),  // three look-alike positions
        ("苏A12345", "苏A12346", .edit),
        ("苏A12345", "苏A1234", .edit),  // deletion
        ("苏A12345", "苏A123456", .edit),  // insertion
        ("苏A12345", "苏XA12345", .edit),
        ("苏A12345", "浙A12345", .edit),  // province misread: one substitution
        ("苏A12345", "苏A12354", nil),  // transposition is two edits
        ("苏A12345", "苏A1234S6", nil),
        ("苏A12345", "苏A123", nil),
        ("苏A10000", "苏AD0Q0O", nil),  // three look-alike positions: not lookalike, distance 3
        ("苏A1000D", "苏A10000", .lookalike),
        ("苏A12345", "苏A1Z34X", nil),  // one look-alike + one other: distance 2
        ("苏A6G8B0", "苏AG6B8Q", nil),
    ])
    func classifies(a: String, b: String, kind: PlateMatchKind?) {
        #expect(plateMatchKind(a, b) == kind)
        #expect(plateMatchKind(b, a) == kind)
        #expect(oracleKind(a, b) == kind)
    }

    @Test func kindsOrderExactLookalikeEdit() {
        #expect(PlateMatchKind.exact < .lookalike)
        #expect(PlateMatchKind.lookalike < .edit)
    }

    @Test func lookalikeSetsAreThoseOfTheSpecification() {
        #expect(LookalikeSets.areLookalikes("0", "Q"))
        #expect(LookalikeSets.areLookalikes("D", "O"))
        #expect(LookalikeSets.areLookalikes("1", "7"))
        #expect(LookalikeSets.areLookalikes("2", "Z"))
        #expect(LookalikeSets.areLookalikes("5", "S"))
        #expect(LookalikeSets.areLookalikes("8", "B"))
        #expect(LookalikeSets.areLookalikes("6", "G"))
        #expect(!LookalikeSets.areLookalikes("0", "8"))
        #expect(!LookalikeSets.areLookalikes("5", "5"))
        #expect(!LookalikeSets.areLookalikes("苏", "浙"))
    }

    @Test func listReturnsEveryMatchSortedByKindThenPlate() {
        let list = PlateList(["苏A12346", "苏A1234S", "苏A12345", "苏A1234", "苏B99999", "苏a12345", "苏A12344"])
        #expect(list.plates.count == 6, "duplicates after normalisation are dropped")
        let m = list.matches(for: "苏A·12345")
        #expect(m == [
            PlateMatch(plate: "苏A12345", kind: .exact),
            PlateMatch(plate: "苏A1234S", kind: .lookalike),
            PlateMatch(plate: "苏A1234", kind: .edit),
            PlateMatch(plate: "苏A12344", kind: .edit),
            PlateMatch(plate: "苏A12346", kind: .edit),
        ])
        #expect(list.matches(for: "京N00000").isEmpty)
    }

    @Test func exhaustiveSmallAlphabetAgreesWithTheOracle() {
        // Every pair of strings of length 2–4 over an alphabet with look-alikes and others.
        let alphabet: [Unicode.Scalar] = ["0", "O", "D", "5", "S", "A"]
        var words: [String] = []
        func extend(_ prefix: [Unicode.Scalar], _ n: Int) {
            if n == 0 { var s = String.UnicodeScalarView(); s.append(contentsOf: prefix); words.append(String(s)); return }
            for c in alphabet { extend(prefix + [c], n - 1) }
        }
        for n in 2...3 { extend([], n) }
        var checked = 0
        for a in words {
            for b in words {
                #expect(plateMatchKind(a, b) == oracleKind(a, b), "\(a) \(b)")
                checked += 1
            }
        }
        #expect(checked == (36 + 216) * (36 + 216))
    }
}

/// Plate-like strings: a province, then 4–7 characters from a mix rich in look-alikes.
let plateLikeText = Gen<Character?>.element(of: Array("苏浙0O1I27Z5S8B6GDQAX挂·- ａ"))
    .map { $0! }.string(of: 3...9)

@Suite struct PlatePropertyTests {
    @Test func normalisationIsIdempotent() async {
        await propertyCheck(count: 500, input: plateLikeText) { text in
            let once = Plate.normalize(text)
            #expect(Plate.normalize(once) == once)
        }
    }

    @Test func matchingIsSymmetric() async {
        await propertyCheck(count: 500, input: plateLikeText, plateLikeText) { a, b in
            let x = Plate.normalize(a), y = Plate.normalize(b)
            #expect(plateMatchKind(x, y) == plateMatchKind(y, x))
        }
    }

    @Test func matchingAgreesWithTheOracle() async {
        // Mutate a text by up to two look-alike swaps or one edit, so matches are common.
        await propertyCheck(count: 800, input: plateLikeText, Gen.int(in: 0...5), Gen.int(in: 0...8)) { text, op, pos in
            let a = Plate.normalize(text)
            var s = Array(a.unicodeScalars)
            guard !s.isEmpty else { return }
            let i = pos % s.count
            switch op {
            case 0: s.remove(at: i)
            case 1: s.insert("7", at: i)
            case 2: s[i] = "X"
            case 3: s[i] = s[i] == "0" ? "D" : "0"
            case 4:
                s[i] = s[i] == "5" ? "S" : "5"
                s[(i + 1) % s.count] = s[(i + 1) % s.count] == "8" ? "B" : "8"
            default: break
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: s)
            let b = String(view)
            #expect(plateMatchKind(a, b) == oracleKind(a, b), "\(a) \(b)")
        }
    }
}

@Suite struct LookalikeRepresentativeTests {
    @Test func representativesAgreeWithTheSetsForEveryASCIICharacter() {
        for a in (0x20...0x7E).map({ Unicode.Scalar($0)! }) {
            for b in (0x20...0x7E).map({ Unicode.Scalar($0)! }) {
                let bySets = a != b && LookalikeSets.sets.contains { $0.contains(a) && $0.contains(b) }
                #expect(LookalikeSets.areLookalikes(a, b) == bySets, "\(a) \(b)")
            }
        }
    }
}
