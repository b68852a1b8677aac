/// How the unit turns recogniser readings into plate reads.
public struct RecognitionSettings: Sendable {
    /// Confidence (the weakest character's probability, voted over the frames) from which a
    /// reading is reported as the plate; below it the record says unknown, with the candidates.
    /// 0.6: on generated frame sequences the voted readings at or above it are 96.9 % right
    /// (BENCHMARKS.md, `Scripts/plate-eval`).
    public static let defaultThreshold = 0.6
    public var threshold = defaultThreshold
    public init() {}
}
