/// How the unit turns recogniser readings into plate reads.
public struct RecognitionSettings: Sendable {
    /// Confidence (the weakest character's probability, voted over the frames) from which a
    /// reading is reported as the plate; below it the record says unknown, with the candidates.
    public static let defaultThreshold = 0.8
    public var threshold = defaultThreshold
    public init() {}
}
