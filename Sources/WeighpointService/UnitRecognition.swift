import Foundation
import Logging
import WeighpointCapture
import WeighpointCore
import WeighpointEvidence
import WeighpointRecognition
import WeighpointSystem
import WeighpointJSON

/// The built-in recogniser in the running unit: for each weighing and each of its lane's cameras
/// with `plates = "recognizer"`, the frames nearest the camera's expected time are read on a
/// thread of their own (never on the capture or decision path), voted into one reading, and
/// turned into a plate read when it reaches the threshold; below it, the candidates are kept for
/// the record (`plate_candidates`). Bounded work: a few frames per vehicle, a bounded job queue
/// (a job that does not fit is dropped and counted, the vehicle then has no read from it).
final class UnitPlateRecognition: @unchecked Sendable {
    struct Job {
        var vehicle: PendingVehicle.ID
        /// The controller's sequence, for the log.
        var seq: UInt64
        var camera: StationConfig.CameraConfig
        var frames: [CapturedFrame]
    }

    typealias Outcome = RecognitionOutcome

    let reader: VehiclePlateReader
    let threshold: Double
    let modelID: String
    let metrics: UnitMetrics
    let log: Logger
    private let lock = NSLock()
    private var jobs: [Job] = []
    private let capacity = 64
    /// Plate crops of recent reads, by read: a read may end up with another weighing than the
    /// one it was made for (close followers are associated jointly).
    private var crops: [PlateRead: (jpeg: [UInt8], at: Timestamp)] = [:]
    private var worker: WorkerThread?

    init(settings: StationConfig.Recognizer, metrics: UnitMetrics, logger: Logger) throws {
        var s = PlateRecognizer.Settings()
        s.detectSides = settings.detectSides
        s.fallbackSides = settings.fallbackSides
        s.edgeSearch = settings.edgeSearch
        let recognizer = try PlateRecognizer(models: settings.models, settings: s)
        reader = try VehiclePlateReader(recognizer: recognizer)
        threshold = settings.threshold
        modelID = "\(PlateRecognizer.modelName) sha256:\(recognizer.modelSHA256)"
        self.metrics = metrics
        log = logger
        metrics.describe("weighpoint_recognitions_total", "Vehicles read by the built-in recogniser, per camera and outcome (read, low_confidence, none, dropped).")
        metrics.describe("weighpoint_recognition_last_ms", "Time the recogniser took for the last vehicle, per camera.")
        logger.info("plate recogniser", metadata: ["model": "\(modelID)", "threshold": "\(threshold)", "detect_sides": "\(s.detectSides)", "fallback_sides": "\(s.fallbackSides)", "edge_search": "\(s.edgeSearch)"])
    }

    /// Starts the recogniser's thread. `onRead` gets each read that reached the threshold, and
    /// then `onOutcome` what the job found (the read is among the unit's reads before the vehicle
    /// counts as read).
    func start(onRead: @escaping @Sendable (PlateRead) -> Void, onOutcome: @escaping @Sendable (PendingVehicle.ID, String, Outcome) -> Void) {
        let w = WorkerThread(name: "plate-recogniser") { [self] worker in
            while worker.isRunning {
                guard let job = lock.withLock({ jobs.isEmpty ? nil : jobs.removeFirst() }) else {
                    worker.pause(milliseconds: 200)
                    continue
                }
                let outcome = run(job)
                if let read = outcome.read {
                    lock.withLock {
                        crops = crops.filter { $0.value.at.microseconds(to: read.time) < 120_000_000 }
                        if let c = outcome.crop { crops[read] = c }
                    }
                    onRead(read)
                }
                onOutcome(job.vehicle, job.camera.id, outcome)
            }
        }
        worker = w
        w.start()
    }

    func stop() { worker?.stop() }

    /// Hands in a job; false (and counted) when the queue is full.
    @discardableResult
    func submit(_ job: Job) -> Bool {
        let accepted = lock.withLock { () -> Bool in
            guard jobs.count < capacity else { return false }
            jobs.append(job)
            return true
        }
        if accepted { worker?.wake() } else { metrics.add("weighpoint_recognitions_total", [("camera", job.camera.id), ("outcome", "dropped")]) }
        return accepted
    }

    /// The plate crop of a read the recogniser made.
    func crop(for read: PlateRead) -> [UInt8]? { lock.withLock { crops[read]?.jpeg } }

    private func run(_ job: Job) -> Outcome {
        let start = ContinuousClock.now
        let plates = reader.read(job.frames, roi: job.camera.roi)
        let d = ContinuousClock.now - start
        metrics.set("weighpoint_recognition_last_ms", [("camera", job.camera.id)], Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000)
        guard let best = plates.first else {
            metrics.add("weighpoint_recognitions_total", [("camera", job.camera.id), ("outcome", "none")])
            return Outcome(read: nil, crop: nil, candidates: PlateCandidates(camera: job.camera.id, frames: job.frames.count, candidates: [], confidence: nil, color: nil))
        }
        let r = best.reading
        guard r.confidence >= threshold else {
            metrics.add("weighpoint_recognitions_total", [("camera", job.camera.id), ("outcome", "low_confidence")])
            log.info("plate below threshold", metadata: ["controller_seq": "\(job.seq)", "camera": "\(job.camera.id)", "candidates": "\(best.candidates)", "confidence": "\(r.confidence)"])
            return Outcome(
                read: nil, crop: best.crop.map { ($0, best.time) },
                candidates: PlateCandidates(camera: job.camera.id, frames: best.frames, candidates: best.candidates, confidence: r.confidence, color: best.color))
        }
        metrics.add("weighpoint_recognitions_total", [("camera", job.camera.id), ("outcome", "read")])
        let read = PlateRead(camera: job.camera.id, time: best.time, text: r.text, color: best.color, confidence: r.confidence, alternatives: r.characters, box: best.box, recognizer: modelID)
        return Outcome(read: read, crop: best.crop.map { ($0, best.time) }, candidates: nil)
    }
}
