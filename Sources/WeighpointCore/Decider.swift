// WeighpointCore owns the domain: plates (GA 36), matching and the plate index, the legal limits
// (Article 3, GB 1589), tolerance and assessment, association of reads with weighings,
// calibration arithmetic, and the Decider that runs them for one batch of weighings. Pure: it
// may import only the standard library and Synchronization (Scripts/check-layout), does no I/O
// and reads no clock; replay and the unit both decide through it.
/// The outcome for one weighing: the plates associated with it, its assessment, and the watch
/// lists its plates are on.
public struct VehicleDecision: Sendable {
    public let weighing: Weighing
    public let front: PlateRead?
    public let rear: PlateRead?
    public let assessment: OverloadAssessment
    /// Watch-list hits of the associated plates; they never change the decision.
    public let watchHits: [WatchHit]
    /// The reads given to this weighing, front then rear: spent for any later weighing.
    public var usedReads: [PlateRead] { [front, rear].compactMap { $0 } }
}

/// The decision step, once for replay and the unit alike: a batch of weighings is associated
/// jointly with the reads at hand, each weighing is assessed with its plates (permits included),
/// and its plates are looked up in the watch lists. Deterministic: no clock, no I/O.
public struct Decider: Sendable {
    public var associator: Associator
    public var assessor: Assessor
    public var watchLists: [WatchList]

    public init(associator: Associator, assessor: Assessor, watchLists: [WatchList] = []) {
        self.associator = associator
        self.assessor = assessor
        self.watchLists = watchLists
    }

    /// One decision per weighing, in the order given.
    public func decide(_ weighings: [Weighing], reads: [PlateRead]) -> [VehicleDecision] {
        let plates = associator.associate(weighings, reads)
        return zip(weighings, plates).map { w, p in
            let front = p.front.map { reads[$0] }
            let rear = p.rear.map { reads[$0] }
            let read = [front, rear].compactMap { $0?.normalized }
            return VehicleDecision(
                weighing: w, front: front, rear: rear, assessment: assessor.assess(w, plates: read),
                watchHits: watchLists.flatMap { $0.hits(for: read) })
        }
    }
}
