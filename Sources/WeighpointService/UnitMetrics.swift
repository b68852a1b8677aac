import Foundation
import Prometheus

/// The unit's metrics in a swift-prometheus registry (rendered at `GET /metrics`), with the
/// current values also kept here for the demo's summary and the benchmark.
public final class UnitMetrics: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let lock = NSLock()
    private var values: [String: Double] = [:]
    private var help: [String: String] = [:]
    private var counters: [String: Counter] = [:]
    private var gauges: [String: Gauge] = [:]
    private var commitTimes: DurationHistogram?

    public init() {}

    /// The help text of a metric; give it before the metric's first value.
    public func describe(_ name: String, _ text: String) { lock.withLock { help[name] = text } }

    /// `name{k="v",…}`: the key of a series here, as it appears in the exposition.
    public static func series(_ name: String, _ labels: [(String, String)] = []) -> String {
        labels.isEmpty ? name : name + "{" + labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
    }

    public func add(_ name: String, _ labels: [(String, String)] = [], _ v: Double = 1) {
        let k = Self.series(name, labels)
        lock.withLock {
            let c = counters[k] ?? registry.makeCounter(name: name, labels: labels, help: help[name] ?? "")
            counters[k] = c
            if v == v.rounded() { c.increment(by: Int64(v)) } else { c.increment(by: v) }  // counts print as integers
            values[k, default: 0] += v
        }
    }

    /// Raises a counter to `total`, for counts kept elsewhere (a ring's frame counts).
    public func raise(_ name: String, _ labels: [(String, String)] = [], to total: Double) {
        let delta = total - (lock.withLock { values[Self.series(name, labels)] } ?? 0)
        if delta > 0 { add(name, labels, delta) }
    }

    public func set(_ name: String, _ labels: [(String, String)] = [], _ v: Double) {
        let k = Self.series(name, labels)
        lock.withLock {
            let g = gauges[k] ?? registry.makeGauge(name: name, labels: labels, help: help[name] ?? "")
            gauges[k] = g
            g.set(v)
            values[k] = v
        }
    }

    /// One record commit (images written and fsynced, row committed).
    public func observeCommit(_ d: Duration) {
        lock.withLock {
            let h = commitTimes ?? registry.makeDurationHistogram(
                name: "weighpoint_store_commit_seconds",
                buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(2)],
                help: "Time to commit a record with its images, fsynced.")
            commitTimes = h
            h.record(d)
            values["weighpoint_store_commit_seconds_sum", default: 0] += Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            values["weighpoint_store_commit_seconds_count", default: 0] += 1
        }
    }

    /// The current value of a series (`series(name, labels)`).
    public func value(_ series: String) -> Double? { lock.withLock { values[series] } }

    /// The Prometheus text exposition.
    public func render() -> String { registry.emitToString() }
}


extension UnitMetrics {
    /// The help texts of the unit's own metrics.
    func describeUnit() {
        describe("weighpoint_weighings_total", "Weighings received from the WIM controller.")
        describe("weighpoint_decisions_total", "Decisions by kind.")
        describe("weighpoint_association_misses_total", "Weighings for which a camera of their lane gave no plate read.")
        describe("weighpoint_frames_captured_total", "Frames pushed into each camera's ring.")
        describe("weighpoint_frames_dropped_total", "Frames overwritten in the ring before use, per camera.")
        describe("weighpoint_records_total", "Signed records committed.")
        describe("weighpoint_delivery_backlog", "Records not yet acknowledged by the case system.")
        describe("weighpoint_delivery_oldest_age_seconds", "Age of the oldest unacknowledged record.")
        describe("weighpoint_alarm", "1 while an alarm is raised.")
        describe("weighpoint_wim_gaps_total", "Controller records never seen (sequence gaps).")
        describe("weighpoint_wim_sequence_resets_total", "Times the controller's numbering went back (it restarted or its counter wrapped).")
        describe("weighpoint_plate_reads_total", "Plate reads received.")
        describe("weighpoint_plate_read_copies_total", "Reads of a text a camera had just sent (within the match window), kept as one read.")
        describe("weighpoint_http_connections_closed_total", "HTTP connections the unit closed, by reason (refused_total, refused_address: over a connection limit; header_timeout, request_timeout: too slow).")
        describe("weighpoint_http_connections_max", "Connections the HTTP listener holds at most (max_connections, lowered to fit the descriptor limit).")
        describe("weighpoint_reads_refused_total", "Pushed plate reads refused, by reason (json, field, camera, time, plate, too_many, too_large, rate, incomplete).")
    }
}
