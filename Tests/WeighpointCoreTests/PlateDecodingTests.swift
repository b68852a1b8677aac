import PropertyBased
import Testing
@testable import WeighpointCore

/// A reading network's output made by hand: `steps` lists, per timestep, the likeliest character
/// (nil: blank) and its probability; the rest of the mass is spread over `others`.
func probabilities(_ steps: [(Unicode.Scalar?, Double)], others: [(Int, Unicode.Scalar, Double)] = []) -> CharacterProbabilities {
    let classes: [Unicode.Scalar?] = Array("京沪苏浙粤鲁新皖0123456789ABCDEFGHJKLMNPQRSTUVWXYZ警挂学".unicodeScalars).map { $0 } + [nil]
    let blank = classes.count - 1
    var p = [Double](repeating: 0, count: steps.count * classes.count)
    for (t, (s, prob)) in steps.enumerated() {
        let c = s.map { ch in classes.firstIndex { $0 == ch }! } ?? blank
        p[t * classes.count + c] = prob
        let rest = 1 - prob
        p[t * classes.count + (c == blank ? 0 : blank)] += rest
    }
    for (t, s, prob) in others {
        let c = classes.firstIndex { $0 == s }!
        let top = p[(t * classes.count)..<((t + 1) * classes.count)].indices.max { p[$0] < p[$1] }!
        p[top] -= prob
        p[t * classes.count + c] += prob
    }
    return CharacterProbabilities(timesteps: steps.count, classes: classes, blank: blank, p: p)
}

/// "苏A12345" with a blank between characters, each at `prob`.
func spelled(_ text: String, prob: Double = 0.9) -> [(Unicode.Scalar?, Double)] {
    text.unicodeScalars.flatMap { [($0, prob), (nil, 0.95)] }
}

@Suite struct PlateDecodingTests {
    @Test func bestPathIsThePublishedDecoding() {
        let m = probabilities(spelled("苏E12345"))
        #expect(PlateDecoder.greedy(m).text == "苏E12345")
        #expect(abs(PlateDecoder.greedy(m).confidence - 0.9) < 1e-9)
        // A character held over two steps is one; the same character twice needs a blank between.
        let held = probabilities([("苏", 0.9), ("苏", 0.9), (nil, 0.9), ("E", 0.9), ("1", 0.9), ("1", 0.9), (nil, 0.9), ("1", 0.9)])
        #expect(PlateDecoder.greedy(held).text == "苏E11")
    }

    @Test func theGrammarMendsWhatBestPathGetsWrong() {
        // The network's second choice at the authority letter is the only one a plate allows.
        let m = probabilities(spelled("鲁新55Z88"), others: [(2, "Q", 0.3)])
        #expect(PlateDecoder.greedy(m).text == "鲁新55Z88")
        let r = PlateDecoder.constrained(m)
        #expect(r?.text == "鲁Q55Z88" && r?.kind == .standard)
        #expect(abs((r?.confidence ?? 0) - 0.3) < 0.02, "the mended character is the weakest")
        // Eight sure characters and a weak ninth fit no layout (eight needs a D or F): the best
        // plate there is has seven characters, and the weak one is not among them.
        let long = probabilities(spelled("苏A123456") + spelled("7", prob: 0.2))
        let r7 = PlateDecoder.constrained(long)
        #expect(r7?.kind == .standard && r7?.text.unicodeScalars.count == 7 && r7?.text.contains("7") == false, "\(r7?.text ?? "nil")")
    }

    @Test func onATwoRowPlateAChineseCharacterAfterTheProvinceIs挂() throws {
        // A two-row trailer plate laid out as one row: the network saw 学 or 警 where 挂 stands
        // (its training had few 挂), weaker than a 1 in sum but stronger together.
        let m = probabilities(spelled("苏A1234") + [("1", 0.4), (nil, 0.95)], others: [(12, "学", 0.3), (12, "警", 0.25)])
        #expect(PlateDecoder.constrained(m, kinds: [.standard, .trailer])?.text == "苏A12341")
        let folded = try #require(m.foldingChinese(into: "挂", from: 2))
        let r = PlateDecoder.constrained(folded, kinds: [.standard, .trailer])
        #expect(r?.text == "苏A1234挂" && r?.kind == .trailer)
        #expect(abs((r?.characters.last?.first?.probability ?? 0) - 0.55) < 1e-9)
        // Before `from` nothing moves: the province stays a province; each step still sums to one.
        #expect(folded.at(0, folded.classes.firstIndex(of: "苏")!) == m.at(0, m.classes.firstIndex(of: "苏")!))
        for t in 0..<folded.timesteps {
            let sum = (0..<folded.classes.count).reduce(0.0) { $0 + folded.at(t, $1) }
            #expect(abs(sum - 1) < 1e-9)
        }
        #expect(m.foldingChinese(into: "港", from: 2) == nil, "a class the network lacks")
    }

    @Test func zeroInTheAuthorityPositionIsTheOOfAPolicePlate() {
        // The network has no O: 粤0…警 can only be 粤O…警.
        let r = PlateDecoder.constrained(probabilities(spelled("粤01234警")))
        #expect(r?.text == "粤O1234警" && r?.kind == .police)
        #expect(r?.characters[1].first?.character == "O")
        // On a standard plate O cannot stand there: the next best letter does.
        let s = PlateDecoder.constrained(probabilities(spelled("粤012345"), others: [(2, "D", 0.2)]))
        #expect(s?.text == "粤D12345")
    }

    @Test func coloursNarrowTheLayouts() {
        // Seven characters read, but the plate is green: only new-energy layouts, eight characters.
        let m = probabilities(spelled("浙AD1234") + spelled("5", prob: 0.35))
        #expect(PlateDecoder.constrained(m, kinds: Plate.Kind.issued(in: .blue))?.text == "浙AD1234")
        #expect(PlateDecoder.constrained(m, kinds: Plate.Kind.issued(in: .green))?.text == "浙AD12345")
        #expect(Plate.Kind.issued(in: .unknown) == Set(Plate.Kind.allCases))
    }

    @Test func alternativesAreWhatTheGrammarAllowsThere() {
        let m = probabilities(spelled("苏E12345"), others: [(0, "浙", 0.05), (2, "B", 0.04), (2, "8", 0.03), (4, "Z", 0.02)])
        let r = PlateDecoder.constrained(m)!
        #expect(r.characters.map { $0[0].character } == Array("苏E12345".unicodeScalars))
        #expect(r.characters[0].dropFirst().map(\.character).contains("浙"))
        #expect(r.characters[1].dropFirst().map(\.character) == ["B"], "a digit cannot be the authority letter: 8 is no alternative there")
        #expect(r.characters[2].dropFirst().map(\.character).contains("Z"))
    }

    @Test func noPlateFitsNoise() {
        #expect(PlateDecoder.constrained(probabilities([(nil, 0.99), (nil, 0.99), ("1", 0.6), (nil, 0.99)])) == nil)
    }

    /// The decoder's layouts are GA 36 as `Plate(parsing:)` knows it: a text fills a layout
    /// exactly when it parses as that kind.
    @Test func layoutsAgreeWithThePlateParser() async {
        let chars = Array("苏粤京使ZADFOIQ0123456789挂学警领港澳".unicodeScalars)
        let gen = Gen<Int>.int(in: 0...(chars.count - 1)).array(of: 6...9)
        await propertyCheck(count: 3000, input: gen) { idx in
            var v = String.UnicodeScalarView()
            v.append(contentsOf: idx.map { chars[$0] })
            let text = String(v)
            let fitting = PlateLayout.layouts(fitting: Array(text.unicodeScalars)).filter { PlateLayout.layouts[$0].slots.count == text.unicodeScalars.count }
            let parsed = try? Plate(parsing: text)
            if Plate.normalize(text) == text {
                #expect((parsed?.kind).map { k in fitting.map { PlateLayout.layouts[$0].kind }.contains(k) } ?? fitting.isEmpty, "\(text)")
            }
        }
        // And every layout has examples that parse.
        for (kind, example) in [(Plate.Kind.standard, "苏A12345"), (.trailer, "苏A1234挂"), (.coach, "苏A1234学"), (.police, "粤O1234警"), (.consulate, "苏A1234领"),
                                (.hongKongMacau, "粤Z1234港"), (.embassy, "使123456"), (.newEnergySmall, "苏AD12345"), (.newEnergyLarge, "苏A12345D")] {
            #expect((try? Plate(parsing: example))?.kind == kind)
            let fits = PlateLayout.layouts(fitting: Array(example.unicodeScalars)).map { PlateLayout.layouts[$0].kind }
            #expect(fits.contains(kind), "\(example)")
        }
    }

    @Test func votingAcrossFrames() {
        func reading(_ text: String, _ p: Double, alt: [Int: (Unicode.Scalar, Double)] = [:]) -> PlateReading {
            let s = Array(text.unicodeScalars)
            let chars = s.enumerated().map { i, c -> [CharacterAlternative] in
                [CharacterAlternative(c, p)] + (alt[i].map { [CharacterAlternative($0.0, $0.1)] } ?? [])
            }
            return PlateReading(text: text, kind: (try? Plate(parsing: text))?.kind ?? .standard, characters: chars, confidence: p)
        }
        // Two frames misread one character each, differently: the vote has the plate right.
        let v = PlateVote.combine([reading("苏E12345", 0.9), reading("苏E72345", 0.6, alt: [2: ("1", 0.3)]), reading("苏E12845", 0.7, alt: [4: ("3", 0.2)])])
        #expect(v?.text == "苏E12345")
        #expect((v?.confidence ?? 0) > 0.4 && (v?.confidence ?? 1) < 0.9, "disagreement lowers the confidence: \(v?.confidence ?? 0)")
        // Agreement keeps it.
        let same = PlateVote.combine([reading("苏E12345", 0.9), reading("苏E12345", 0.9)])
        #expect(abs((same?.confidence ?? 0) - 0.9) < 1e-9)
        // The layout length with the most weight wins; a lone eight-character read is outvoted.
        #expect(PlateVote.combine([reading("苏E12345", 0.8), reading("苏E12345", 0.7), reading("苏ED12345", 0.9)])?.text == "苏E12345")
        #expect(PlateVote.combine([]) == nil)
    }
}

@Suite struct PlateVoteLookalikeTests {
    @Test func aLookalikeStandsInWhereTheGrammarRefusesWhatWasSeen() {
        // Every frame saw 0 in the authority position of a seven-character plate, where only a
        // letter stands (O only on police plates): a letter look-alike of 0 (D or Q) is the plate.
        let r = PlateReading(text: "苏012345", kind: .standard, characters: Array("苏012345".unicodeScalars).map { [CharacterAlternative($0, 0.9)] }, confidence: 0.9)
        let v = PlateVote.combine([r, r])
        #expect(v?.text == "苏D12345" || v?.text == "苏Q12345")
        #expect((v?.characters[1].first?.probability ?? 1) < 0.5, "a stand-in is not sure")
    }
}
