/// A reading network's output for one plate: P(class | timestep) for a CTC-trained network whose
/// classes are characters and one blank. Row-major `[timestep][class]`.
public struct CharacterProbabilities: Sendable {
    public let timesteps: Int
    /// The text of each class; the blank's is empty.
    public let classes: [Unicode.Scalar?]
    public let blank: Int
    public let p: [Double]

    public init(timesteps: Int, classes: [Unicode.Scalar?], blank: Int, p: [Double]) {
        precondition(p.count == timesteps * classes.count, "\(p.count) probabilities for \(timesteps) x \(classes.count)")
        self.timesteps = timesteps
        self.classes = classes
        self.blank = blank
        self.p = p
    }

    @inline(__always) func at(_ t: Int, _ c: Int) -> Double { p[t * classes.count + c] }

    /// The same output with, from timestep `step` on, the probability of every Chinese character
    /// moved to `target`. For a two-row plate the only Chinese character after the province is
    /// its last, 挂 (GA 36): whatever Chinese character the network saw there, it is 挂. Nil when
    /// `target` is not one of the classes.
    public func foldingChinese(into target: Unicode.Scalar, from step: Int) -> CharacterProbabilities? {
        guard let into = classes.firstIndex(of: target) else { return nil }
        let chinese = classes.indices.filter { c in c != into && classes[c].map { !$0.isASCII } == true }
        var q = p
        for t in max(0, step)..<timesteps {
            for c in chinese {
                q[t * classes.count + into] += q[t * classes.count + c]
                q[t * classes.count + c] = 0
            }
        }
        return CharacterProbabilities(timesteps: timesteps, classes: classes, blank: blank, p: q)
    }
}

/// One character of a reading with the alternatives the network gave for it.
public struct CharacterAlternative: Hashable, Sendable {
    public var character: Unicode.Scalar
    public var probability: Double

    public init(_ character: Unicode.Scalar, _ probability: Double) {
        self.character = character
        self.probability = probability
    }
}

/// A plate read from a network's output, or voted from several.
public struct PlateReading: Hashable, Sendable {
    public var text: String
    public var kind: Plate.Kind
    /// Per character, the chosen one first, then up to two alternatives the grammar allows there.
    public var characters: [[CharacterAlternative]]
    /// The weakest character's probability: a read is as good as its worst character.
    public var confidence: Double

    public init(text: String, kind: Plate.Kind, characters: [[CharacterAlternative]], confidence: Double) {
        self.text = text
        self.kind = kind
        self.characters = characters
        self.confidence = confidence
    }
}

/// GA 36 plate layouts as character slots, for decoding: which characters may stand at each
/// position of each layout. Agrees with `Plate(parsing:)` (tests check that a text fills a
/// layout exactly when it parses as that kind).
public enum PlateLayout {
    public enum Slot: Sendable {
        case province
        /// The issuing authority's letter: A–Z without I and O.
        case authority
        /// Police plates may carry O there (粤O…警).
        case authorityOrO
        /// Digits and letters without I and O.
        case serial
        case digit
        case one(Set<Unicode.Scalar>)

        public func accepts(_ s: Unicode.Scalar) -> Bool {
            switch self {
            case .province: Plate.provinces.contains(s)
            case .authority: Plate.isPlateLetter(s)
            case .authorityOrO: Plate.isPlateLetter(s) || s == "O"
            case .serial: Plate.isSerial(s)
            case .digit: Plate.isDigit(s)
            case .one(let set): set.contains(s)
            }
        }
    }

    public static let layouts: [(kind: Plate.Kind, slots: [Slot])] = {
        let s4 = [Slot](repeating: .serial, count: 4)
        return [
            (.standard, [.province, .authority] + [Slot](repeating: .serial, count: 5)),
            (.trailer, [.province, .authority] + s4 + [.one(["挂"])]),
            (.coach, [.province, .authority] + s4 + [.one(["学"])]),
            (.police, [.province, .authorityOrO] + s4 + [.one(["警"])]),
            (.consulate, [.province, .authority] + s4 + [.one(["领"])]),
            (.hongKongMacau, [.one(["粤"]), .one(["Z"])] + s4 + [.one(["港", "澳"])]),
            (.embassy, [.one(["使"])] + [Slot](repeating: .digit, count: 6)),
            (.newEnergySmall, [.province, .authority, .one(["D", "F"]), .serial] + [Slot](repeating: .digit, count: 4)),
            (.newEnergyLarge, [.province, .authority] + [Slot](repeating: .digit, count: 5) + [.one(["D", "F"])]),
        ]
    }()

    /// The layouts `text` is a prefix of (all of them for an empty text), among `kinds`.
    static func layouts(fitting text: [Unicode.Scalar], kinds: Set<Plate.Kind>? = nil) -> [Int] {
        layouts.indices.filter { i in
            if let kinds, !kinds.contains(layouts[i].kind) { return false }
            let slots = layouts[i].slots
            return text.count <= slots.count && zip(text, slots).allSatisfy { $1.accepts($0) }
        }
    }
}

/// Decoding a reading network's output into plates.
public enum PlateDecoder {
    /// Best-path decoding as the published pipeline does it: the likeliest class at each
    /// timestep, repeats merged, blanks dropped; confidence the mean of the chosen classes'
    /// probabilities. No grammar: the text may be no plate at all.
    public static func greedy(_ m: CharacterProbabilities) -> (text: String, confidence: Double) {
        var out = String.UnicodeScalarView()
        var sum = 0.0
        var previous = -1
        for t in 0..<m.timesteps {
            var best = 0
            for c in 1..<m.classes.count where m.at(t, c) > m.at(t, best) { best = c }
            if best != m.blank && best != previous, let s = m.classes[best] {
                out.append(s)
                sum += m.at(t, best)
            }
            previous = best
        }
        return (String(out), out.isEmpty ? 0 : sum / Double(out.count))
    }

    /// The likeliest GA 36 plate under the network's output: a CTC prefix beam search that only
    /// extends prefixes some layout allows, so every result is a plate (an authority letter is
    /// never a digit, a serial never holds I or O, 挂 only ends a plate). The network has no O:
    /// its 0 stands for O where only O can stand (粤O…警). `kinds` limits the layouts (a plate's
    /// colour tells: green is a new-energy plate, blue a standard one). Nil when no plate fits.
    public static func constrained(_ m: CharacterProbabilities, kinds: Set<Plate.Kind>? = nil, beam: Int = 16, perStep: Int = 8) -> PlateReading? {
        // A prefix as class indices; the text follows from the classes and the layout.
        struct Beam { var blank = 0.0, char = 0.0; var total: Double { blank + char } }
        var beams: [[Int]: Beam] = [[]: Beam(blank: 1, char: 0)]
        func text(_ prefix: [Int]) -> [Unicode.Scalar] {
            prefix.enumerated().map { i, c in
                let s = m.classes[c]!
                // 0 in the authority position can only be the O of a police plate.
                return i == 1 && s == "0" ? "O" : s
            }
        }
        func allowed(_ prefix: [Int]) -> Bool { !PlateLayout.layouts(fitting: text(prefix), kinds: kinds).isEmpty }
        for t in 0..<m.timesteps {
            // The classes worth extending with at this step.
            let top = (0..<m.classes.count).filter { $0 != m.blank && m.classes[$0] != nil }.sorted { m.at(t, $0) > m.at(t, $1) }.prefix(perStep)
            var next: [[Int]: Beam] = [:]
            for (prefix, b) in beams {
                next[prefix, default: Beam()].blank += b.total * m.at(t, m.blank)
                if let last = prefix.last { next[prefix, default: Beam()].char += b.char * m.at(t, last) }
                for c in top {
                    let extended = prefix + [c]
                    guard allowed(extended) else { continue }
                    // A repeated character needs a blank between its two occurrences.
                    next[extended, default: Beam()].char += (c == prefix.last ? b.blank : b.total) * m.at(t, c)
                }
            }
            // Ties broken by the prefix itself: the same output always gives the same plate
            // (a dictionary's order differs from run to run).
            let kept = next.sorted { a, b in a.value.total != b.value.total ? a.value.total > b.value.total : a.key.lexicographicallyPrecedes(b.key) }
            beams = Dictionary(uniqueKeysWithValues: kept.prefix(beam).map { ($0.key, $0.value) })
        }
        let complete = beams.compactMap { prefix, b -> (prefix: [Int], score: Double, kind: Plate.Kind)? in
            let s = text(prefix)
            guard let i = PlateLayout.layouts(fitting: s, kinds: kinds).first(where: { PlateLayout.layouts[$0].slots.count == s.count }) else { return nil }
            return (prefix, b.total, PlateLayout.layouts[i].kind)
        }
        guard let best = complete.max(by: { a, b in a.score != b.score ? a.score < b.score : b.prefix.lexicographicallyPrecedes(a.prefix) }) else { return nil }
        let scalars = text(best.prefix)
        let slots = PlateLayout.layouts.first { $0.kind == best.kind }!.slots
        let steps = align(best.prefix, m)
        var characters: [[CharacterAlternative]] = []
        for (i, c) in best.prefix.enumerated() {
            // The step where this character is surest, and what else the grammar allows there.
            let t = steps[i].max { m.at($0, c) < m.at($1, c) }!
            var alts = [CharacterAlternative(scalars[i], m.at(t, c))]
            let others = (0..<m.classes.count).filter { $0 != c && $0 != m.blank && m.classes[$0] != nil }
                .map { k -> (Unicode.Scalar, Double) in
                    let s = m.classes[k]!
                    return (i == 1 && s == "0" ? "O" : s, m.at(t, k))
                }
                .filter { slots[i].accepts($0.0) && $0.0 != scalars[i] && $0.1 >= 0.001 }
                .sorted { $0.1 > $1.1 }.prefix(2)
            alts += others.map { CharacterAlternative($0.0, $0.1) }
            characters.append(alts)
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return PlateReading(text: String(view), kind: best.kind, characters: characters, confidence: characters.map { $0[0].probability }.min() ?? 0)
    }

    /// The timesteps each label of `labels` occupies on the likeliest CTC alignment (Viterbi over
    /// the labels with blanks between them).
    static func align(_ labels: [Int], _ m: CharacterProbabilities) -> [[Int]] {
        let n = 2 * labels.count + 1
        func label(_ s: Int) -> Int { s % 2 == 0 ? m.blank : labels[s / 2] }
        var score = [Double](repeating: -.infinity, count: n)
        var back = [[Int]](repeating: [Int](repeating: 0, count: n), count: m.timesteps)
        func lp(_ t: Int, _ c: Int) -> Double { (max(m.at(t, c), 1e-30)).logValue }
        score[0] = lp(0, m.blank)
        if n > 1 { score[1] = lp(0, labels[0]) }
        for t in 1..<m.timesteps {
            var next = [Double](repeating: -.infinity, count: n)
            for s in 0..<n {
                var best = score[s], from = s
                if s >= 1 && score[s - 1] > best { best = score[s - 1]; from = s - 1 }
                if s >= 2 && s % 2 == 1 && labels[s / 2] != labels[s / 2 - 1] && score[s - 2] > best { best = score[s - 2]; from = s - 2 }
                if best > -.infinity {
                    next[s] = best + lp(t, label(s))
                    back[t][s] = from
                }
            }
            score = next
        }
        var s = n > 1 && score[n - 2] > score[n - 1] ? n - 2 : n - 1
        var steps = [[Int]](repeating: [], count: labels.count)
        for t in stride(from: m.timesteps - 1, through: 0, by: -1) {
            if s % 2 == 1 { steps[s / 2].append(t) }
            if t > 0 { s = back[t][s] }
        }
        // A label the path skipped (cannot happen on a complete path) still gets a step.
        for i in steps.indices where steps[i].isEmpty { steps[i] = [0] }
        return steps
    }
}

extension Double {
    /// Natural logarithm without Foundation: ln(x) = log2(x) · ln 2, log2 from the exponent and
    /// a series for the mantissa.
    var logValue: Double {
        guard self > 0 else { return -.infinity }
        let e = Double(exponent)
        let m = significand  // [1, 2)
        // ln(m) = 2 artanh((m-1)/(m+1))
        let z = (m - 1) / (m + 1), z2 = z * z
        var term = z, sum = 0.0
        for k in 0..<12 {
            sum += term / Double(2 * k + 1)
            term *= z2
        }
        return 2 * sum + e * 0.693_147_180_559_945_3
    }
}

/// Reading a vehicle's plate from several frames: each frame's reading votes for every character
/// with its probability, weighted by the reading's confidence; the layout with the most weight
/// wins, and the plate is the best per-character choice the grammar accepts, look-alikes of what
/// was seen standing in where it does not.
public enum PlateVote {
    public static func combine(_ readings: [PlateReading]) -> PlateReading? {
        guard !readings.isEmpty else { return nil }
        // The layout length with the most weight.
        var lengthWeight: [Int: Double] = [:]
        for r in readings { lengthWeight[r.characters.count, default: 0] += max(r.confidence, 1e-6) }
        let length = lengthWeight.max { ($0.value, -$0.key) < ($1.value, -$1.key) }!.key
        let voters = readings.filter { $0.characters.count == length }
        let totalWeight = voters.reduce(0) { $0 + max($1.confidence, 1e-6) }
        var tallies: [[Unicode.Scalar: Double]] = Array(repeating: [:], count: length)
        for r in voters {
            let w = max(r.confidence, 1e-6)
            for (i, alts) in r.characters.enumerated() {
                for a in alts { tallies[i][a.character, default: 0] += w * a.probability }
            }
        }
        // A character's look-alikes (0/O/D/Q, 1/I/7, 2/Z, 5/S, 8/B, 6/G) get half its weight where
        // the frames did not name them: if the grammar refuses what the frames saw (a 0 where only
        // a letter may stand), the look-alike it allows is next in line.
        for i in tallies.indices {
            for (c, v) in tallies[i] {
                for set in LookalikeSets.sets where set.contains(c) {
                    for other in set where tallies[i][other] == nil { tallies[i][other] = v / 2 }
                }
            }
        }
        let ranked = tallies.map { $0.sorted { ($0.value, $0.key.value) > ($1.value, $1.key.value) } }
        // Per position the best candidates; the best combination that is a plate (a small beam).
        var beams: [(text: [Unicode.Scalar], score: Double)] = [([], 1)]
        for i in 0..<length {
            var next: [(text: [Unicode.Scalar], score: Double)] = []
            for b in beams {
                for (s, v) in ranked[i].prefix(4) {
                    let t = b.text + [s]
                    if !PlateLayout.layouts(fitting: t).isEmpty { next.append((t, b.score * v / totalWeight)) }
                }
            }
            beams = Array(next.sorted { a, b in a.score != b.score ? a.score > b.score : a.text.map(\.value).lexicographicallyPrecedes(b.text.map(\.value)) }.prefix(16))
        }
        for b in beams {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: b.text)
            guard let plate = try? Plate(parsing: String(view)) else { continue }
            let characters = b.text.enumerated().map { i, s -> [CharacterAlternative] in
                [CharacterAlternative(s, (tallies[i][s] ?? 0) / totalWeight)]
                    + ranked[i].filter { $0.key != s }.prefix(2).map { CharacterAlternative($0.key, $0.value / totalWeight) }
            }
            return PlateReading(text: plate.text, kind: plate.kind, characters: characters, confidence: characters.map { $0[0].probability }.min() ?? 0)
        }
        return nil
    }
}
