import Testing
@testable import WeighpointCore

@Suite struct AssociationTests {
    let cameras = [
        Camera(id: "front-1", lane: 1, role: .front, distanceM: 12),
        Camera(id: "front-2", lane: 2, role: .front, distanceM: 12),
        Camera(id: "rear-1", lane: 1, role: .rear, distanceM: -3),
        Camera(id: "side-1", lane: 1, role: .side, distanceM: 0),
    ]
    var associator: Associator { Associator(cameras: cameras, windowMilliseconds: 1500) }
    let axles = [single(7000), dual(9000)]

    func read(_ camera: String, _ seconds: Double, _ text: String) -> PlateRead {
        PlateRead(camera: camera, time: at(seconds), text: text, color: .yellow, confidence: 0.9)
    }

    @Test func expectedTimeAddsDistanceOverSpeedAndLengthForRearCameras() {
        let w = weighing(speed: 54, axles: axles, length: 16_500)  // 15 m/s
        #expect(cameras[0].expectedTime(of: w) == at(0.8))
        #expect(cameras[2].expectedTime(of: w) == at(0.9))
        #expect(cameras[0].expectedTime(of: weighing(speed: 0, axles: axles)) == nil)
    }

    @Test func readInsideTheWindowIsAssociated() {
        let p = associator.associate([weighing(axles: axles)], [read("front-1", 0.8 + 1.5, "苏A12345")])
        #expect(p == [AssociatedPlates(front: 0)])
    }

    @Test func lateReadOutsideTheWindowIsNot() {
        let p = associator.associate([weighing(axles: axles)], [read("front-1", 0.8 + 1.501, "苏A12345")])
        #expect(p == [AssociatedPlates()])
    }

    @Test func readBeforeItsExpectedTimeIsAssociated() {
        let p = associator.associate([weighing(axles: axles)], [read("front-1", 0.8 - 1.2, "苏A12345")])
        #expect(p == [AssociatedPlates(front: 0)])
    }

    @Test func noReadGivesNoPlate() {
        #expect(associator.associate([weighing(axles: axles)], []) == [AssociatedPlates()])
    }

    @Test func neighbourLaneCameraIsNotUsed() {
        let p = associator.associate([weighing(lane: 1, axles: axles)], [read("front-2", 0.8, "苏A12345")])
        #expect(p == [AssociatedPlates()])
    }

    @Test func sideCamerasAndUnknownCamerasAreNotReadForPlates() {
        let p = associator.associate([weighing(axles: axles)], [read("side-1", 0.0, "苏A12345"), read("nope", 0.8, "苏A12346")])
        #expect(p == [AssociatedPlates()])
    }

    @Test func closeFollowersAreAssignedJointlyNotGreedily() {
        // At 50 km/h the front camera sees a plate 0.864 s after the weighing. A's expected time
        // is 0.864, B's 2.064. Read r0 at 1.5 is nearest to B (0.564) but A needs it (0.636 away);
        // r1 at 3.4 only fits B (1.336 away). Nearest-first would give r0 to B and leave A bare.
        let a = weighing(seq: 1, time: at(0), speed: 50, axles: axles)
        let b = weighing(seq: 2, time: at(1.2), speed: 50, axles: axles)
        let p = associator.associate([a, b], [read("front-1", 1.5, "苏A00001"), read("front-1", 3.4, "苏A00002")])
        #expect(p == [AssociatedPlates(front: 0), AssociatedPlates(front: 1)])
    }

    @Test func amongFullPairingsTheSmallestTotalErrorWins() {
        // Both reads fit both weighings; the crossed pairing has a larger total error.
        let a = weighing(seq: 1, time: at(0), axles: axles)  // expects 0.8
        let b = weighing(seq: 2, time: at(0.5), axles: axles)  // expects 1.3
        let p = associator.associate([a, b], [read("front-1", 1.35, "苏A00002"), read("front-1", 0.75, "苏A00001")])
        #expect(p == [AssociatedPlates(front: 1), AssociatedPlates(front: 0)])
    }

    @Test func eachReadServesOneWeighing() {
        let a = weighing(seq: 1, time: at(0), axles: axles)
        let b = weighing(seq: 2, time: at(0.3), axles: axles)
        let p = associator.associate([a, b], [read("front-1", 1.05, "苏A00001")])
        #expect(p == [AssociatedPlates(), AssociatedPlates(front: 0)], "the read is nearer b's expected time (1.1)")
    }

    @Test func trailerPlateComesFromTheRearCameraAndTractorFromTheFront() {
        let w = weighing(speed: 54, body: .combination, axles: [single(7000), dual(9000), dual(9000)], length: 16_500)
        let reads = [read("rear-1", 0.95, "苏E1234挂"), read("front-1", 0.8, "苏E52177"), read("rear-1", 0.9, "苏E52177")]
        let p = associator.associate([w], reads)
        #expect(p == [AssociatedPlates(front: 1, rear: 0)], "a non-trailer rear read is not a trailer plate")
    }

    @Test func orderOfInputDoesNotMatter() {
        let ws = (0..<20).map { i in weighing(seq: UInt64(i), lane: 1 + i % 2, time: at(Double(i) * 0.9), speed: 40 + Double(i), axles: axles) }
        var reads: [PlateRead] = []
        for (i, w) in ws.enumerated() where i % 5 != 3 {
            let cam = w.lane == 1 ? cameras[0] : cameras[1]
            let jitter = Double((i * 37) % 11 - 5) / 10
            reads.append(PlateRead(camera: cam.id, time: cam.expectedTime(of: w)!.adding(microseconds: Int64(jitter * 1e6)), text: "苏A\(10000 + i)", color: .blue, confidence: 0.9))
        }
        let forward = associator.associate(ws, reads).map { $0.front.map { reads[$0].text } }
        let reversedReads = Array(reads.reversed())
        let backward = associator.associate(ws, reversedReads).map { $0.front.map { reversedReads[$0].text } }
        #expect(forward == backward)
        #expect(forward.compactMap { $0 }.count == reads.count, "every read finds its vehicle")
    }
}

@Suite struct MatchingAlgorithmTests {
    /// Brute force over all assignments: the oracle for the min-cost maximum matching.
    func bruteForce(_ l: Int, _ r: Int, _ edges: [MatchingEdge]) -> (Int, Int64) {
        var cost: [Int: [Int: Int64]] = [:]
        for e in edges { cost[e.left, default: [:]][e.right] = e.cost }
        var best = (0, Int64(0))
        func go(_ i: Int, _ used: Set<Int>, _ n: Int, _ c: Int64) {
            if i == l {
                if n > best.0 || (n == best.0 && c < best.1) { best = (n, c) }
                return
            }
            go(i + 1, used, n, c)
            for (j, cj) in cost[i] ?? [:] where !used.contains(j) { go(i + 1, used.union([j]), n + 1, c + cj) }
        }
        go(0, [], 0, 0)
        return best
    }

    @Test func agreesWithBruteForceOnRandomGraphs() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let l = Int.random(in: 1...6, using: &rng), r = Int.random(in: 1...6, using: &rng)
            var edges: [MatchingEdge] = []
            for i in 0..<l { for j in 0..<r where Bool.random(using: &rng) { edges.append(MatchingEdge(left: i, right: j, cost: Int64.random(in: 0...20, using: &rng))) } }
            let m = minimumCostMaximumMatching(leftCount: l, rightCount: r, edges: edges)
            let used = m.compactMap { $0 }
            #expect(Set(used).count == used.count, "a right node is used once")
            let cost = m.enumerated().reduce(Int64(0)) { acc, p in
                guard let j = p.element else { return acc }
                return acc + edges.first { $0.left == p.offset && $0.right == j }!.cost
            }
            let oracle = bruteForce(l, r, edges)
            #expect(used.count == oracle.0, "\(edges)")
            #expect(cost == oracle.1, "\(edges)")
        }
    }
}
