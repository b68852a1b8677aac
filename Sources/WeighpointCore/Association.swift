/// What a camera looks at.
public enum CameraRole: String, Sendable, CaseIterable {
    /// Front plate of the approaching vehicle (the tractor's plate).
    case front
    /// Rear of the passed vehicle: trailer plate (挂) or the rear plate of a rigid truck.
    case rear
    /// Side panorama; evidence only, not read for plates.
    case side
}

/// A camera's place relative to the WIM sensor line.
public struct Camera: Hashable, Sendable {
    public var id: String
    public var lane: Int
    public var role: CameraRole
    /// Signed distance from the sensor line in the direction of travel, in metres.
    public var distanceM: Double

    public init(id: String, lane: Int, role: CameraRole, distanceM: Double) {
        self.id = id
        self.lane = lane
        self.role = role
        self.distanceM = distanceM
    }

    /// When this camera should see the plate of `w`: `t + d / v`, plus `length / v` for rear
    /// cameras. Nil when the speed is not positive.
    public func expectedTime(of w: Weighing) -> Timestamp? {
        guard w.speedKmh > 0, w.speedKmh.isFinite else { return nil }
        let metresPerSecond = w.speedKmh / 3.6
        var metres = distanceM
        if role == .rear { metres += Double(w.lengthMm ?? 0) / 1000 }
        let us = (metres / metresPerSecond * 1_000_000).rounded()
        return w.time.adding(microseconds: Int64(us))
    }
}

/// A licence-plate read from a camera or recogniser.
public struct PlateRead: Hashable, Sendable {
    public var camera: String
    public var time: Timestamp
    /// Text as read.
    public var text: String
    public var color: PlateColor
    public var confidence: Double
    /// Normalised text (Docs/decision-core.md normalisation), used for matching and output.
    public let normalized: String
    /// Per character, the character read and the alternatives with their probabilities (the
    /// built-in recogniser gives them; pushed reads usually do not).
    public var alternatives: [[CharacterAlternative]]?
    /// Where the plate was in the frame, pixels.
    public var box: PlateBox?
    /// The built-in recogniser's model that read it (name and SHA-256); nil for pushed reads.
    public var recognizer: String?
    /// Who pushed it and how (the credential that authenticated the request); nil for reads the
    /// unit made itself.
    public var provenance: ReadProvenance?

    public init(
        camera: String, time: Timestamp, text: String, color: PlateColor, confidence: Double, alternatives: [[CharacterAlternative]]? = nil, box: PlateBox? = nil,
        recognizer: String? = nil, provenance: ReadProvenance? = nil
    ) {
        self.camera = camera
        self.time = time
        self.text = text
        self.color = color
        self.confidence = confidence
        self.normalized = Plate.normalize(text)
        self.alternatives = alternatives
        self.box = box
        self.recognizer = recognizer
        self.provenance = provenance
    }

    /// True when the read is a trailer plate (ending 挂).
    public var isTrailerPlate: Bool { normalized.unicodeScalars.last == "挂" }
}

/// Where a pushed read came from: the credential that authenticated the request (as
/// configured: `certificate:SHA256`, `subject:DN` or `token:SHA256-PREFIX`), the transport
/// (`https-client-certificate`, `https-bearer-token`) and the sender's address.
public struct ReadProvenance: Hashable, Sendable {
    public var credential: String
    public var transport: String
    public var address: String

    public init(credential: String, transport: String, address: String) {
        self.credential = credential
        self.transport = transport
        self.address = address
    }
}

/// A rectangle in a frame, pixels.
public struct PlateBox: Hashable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

/// The plates associated with one weighing.
public struct AssociatedPlates: Hashable, Sendable {
    /// Index into the reads of the front (tractor) plate read.
    public var front: Int?
    /// Index into the reads of the trailer plate read from a rear camera.
    public var rear: Int?

    public init(front: Int? = nil, rear: Int? = nil) {
        self.front = front
        self.rear = rear
    }
}

/// Pairs plate reads with weighings by lane and expected time (Docs/decision-core.md "Association").
///
/// Among all ways to pair reads with weighings (each read serves at most one weighing per role),
/// it takes the one that pairs the most weighings and, among those, has the smallest total
/// absolute time error: a minimum-cost maximum matching per role, solved by successive shortest
/// augmenting paths. Greedy nearest-first would give a close follower's plate to the vehicle in
/// front whenever the follower's read happens to land nearer.
public struct Associator: Sendable {
    public var cameras: [String: Camera]
    /// Half-width of the window around each camera's expected time.
    public var windowMicroseconds: Int64

    public init(cameras: [Camera], windowMilliseconds: Int64) {
        self.cameras = Dictionary(cameras.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.windowMicroseconds = windowMilliseconds * 1000
    }

    /// The plates for each weighing, in the order of `weighings`. Reads from unknown cameras and
    /// side cameras are not used; rear cameras contribute trailer plates only.
    public func associate(_ weighings: [Weighing], _ reads: [PlateRead]) -> [AssociatedPlates] {
        var result = Array(repeating: AssociatedPlates(), count: weighings.count)
        // Per camera, the weighings of its lane sorted by expected time, so each read finds its
        // candidates by binary search instead of a scan over the day.
        var expectedByCamera: [String: [(time: Timestamp, weighing: Int)]] = [:]
        for (id, cam) in cameras where cam.role != .side {
            var list: [(time: Timestamp, weighing: Int)] = []
            for (w, weighing) in weighings.enumerated() where weighing.lane == cam.lane {
                if let t = cam.expectedTime(of: weighing) { list.append((t, w)) }
            }
            list.sort { ($0.time, $0.weighing) < ($1.time, $1.weighing) }
            expectedByCamera[id] = list
        }
        for role in [CameraRole.front, .rear] {
            var edges: [MatchingEdge] = []
            for (r, read) in reads.enumerated() {
                guard let cam = cameras[read.camera], cam.role == role, let expected = expectedByCamera[read.camera] else { continue }
                if role == .rear && !read.isTrailerPlate { continue }
                let earliest = read.time.adding(microseconds: -windowMicroseconds)
                var lo = 0, hi = expected.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if expected[mid].time < earliest { lo = mid + 1 } else { hi = mid }
                }
                var i = lo
                while i < expected.count {
                    let error = expected[i].time.microseconds(to: read.time)
                    if -error > windowMicroseconds { break }
                    edges.append(MatchingEdge(left: expected[i].weighing, right: r, cost: abs(error)))
                    i += 1
                }
            }
            let pairs = minimumCostMaximumMatching(leftCount: weighings.count, rightCount: reads.count, edges: edges)
            for (w, r) in pairs.enumerated() {
                guard let r else { continue }
                if role == .front { result[w].front = r } else { result[w].rear = r }
            }
        }
        return result
    }
}

/// An admissible pairing of left node `left` with right node `right` at `cost`.
struct MatchingEdge: Hashable, Sendable {
    var left: Int
    var right: Int
    var cost: Int64
}

/// For each left node, its right partner in a matching of maximum size whose total cost is
/// minimal among those. Works per connected component, so a day of traffic costs about as much
/// as its busiest cluster of close vehicles.
func minimumCostMaximumMatching(leftCount: Int, rightCount: Int, edges: [MatchingEdge]) -> [Int?] {
    var result = [Int?](repeating: nil, count: leftCount)
    guard !edges.isEmpty else { return result }
    // Union-find over left nodes [0, L) and right nodes [L, L+R).
    var parent = Array(0..<(leftCount + rightCount))
    func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }
    for e in edges {
        let a = find(e.left), b = find(leftCount + e.right)
        if a != b { parent[max(a, b)] = min(a, b) }
    }
    var components: [Int: [MatchingEdge]] = [:]
    var order: [Int] = []
    for e in edges {
        let root = find(e.left)
        if components[root] == nil { order.append(root) }
        components[root, default: []].append(e)
    }
    for root in order {
        for (l, r) in solveComponent(components[root]!) { result[l] = r }
    }
    return result
}

/// Successive shortest augmenting paths (Bellman–Ford on the residual graph, which has negative
/// edges for matched pairs). Each augmentation adds one pair at the least extra cost, so after
/// the last one the matching is maximum and of minimum cost among maximum matchings.
private func solveComponent(_ edges: [MatchingEdge]) -> [(Int, Int)] {
    // Local numbering, in first-seen order for deterministic tie-breaking.
    var leftIds: [Int] = [], rightIds: [Int] = []
    var leftIndex: [Int: Int] = [:], rightIndex: [Int: Int] = [:]
    for e in edges {
        if leftIndex[e.left] == nil { leftIndex[e.left] = leftIds.count; leftIds.append(e.left) }
        if rightIndex[e.right] == nil { rightIndex[e.right] = rightIds.count; rightIds.append(e.right) }
    }
    let nl = leftIds.count, nr = rightIds.count
    var adjacency = [[(right: Int, cost: Int64)]](repeating: [], count: nl)
    for e in edges { adjacency[leftIndex[e.left]!].append((rightIndex[e.right]!, e.cost)) }

    var matchOfLeft = [Int?](repeating: nil, count: nl)
    var matchOfRight = [Int?](repeating: nil, count: nr)
    let unreachable = Int64.max / 4

    while true {
        // Distances to left nodes (from a virtual source feeding every unmatched left node) and
        // to right nodes; predecessor of a right node is the left node it was reached from.
        var distLeft = [Int64](repeating: unreachable, count: nl)
        var distRight = [Int64](repeating: unreachable, count: nr)
        var predRight = [Int](repeating: -1, count: nr)
        for l in 0..<nl where matchOfLeft[l] == nil { distLeft[l] = 0 }
        var changed = true
        var rounds = 0
        while changed && rounds <= nl + nr {
            changed = false
            rounds += 1
            for l in 0..<nl where distLeft[l] < unreachable {
                for (r, c) in adjacency[l] where matchOfLeft[l] != r {
                    let d = distLeft[l] + c
                    if d < distRight[r] {
                        distRight[r] = d
                        predRight[r] = l
                        changed = true
                    }
                }
            }
            // Matched pairs can be walked backwards at negative cost.
            for r in 0..<nr where distRight[r] < unreachable {
                guard let l = matchOfRight[r] else { continue }
                let c = adjacency[l].first(where: { $0.right == r })!.cost
                let d = distRight[r] - c
                if d < distLeft[l] {
                    distLeft[l] = d
                    changed = true
                }
            }
        }
        // The cheapest unmatched right node ends the augmenting path.
        var end: Int?
        for r in 0..<nr where matchOfRight[r] == nil && distRight[r] < unreachable {
            if end == nil || distRight[r] < distRight[end!] { end = r }
        }
        guard var r = end else { break }
        // Flip the path: each right node takes the left node it was reached from.
        while true {
            let l = predRight[r]
            let previous = matchOfLeft[l]
            matchOfLeft[l] = r
            matchOfRight[r] = l
            guard let p = previous else { break }
            r = p
        }
    }
    var pairs: [(Int, Int)] = []
    for l in 0..<nl { if let r = matchOfLeft[l] { pairs.append((leftIds[l], rightIds[r])) } }
    return pairs
}
