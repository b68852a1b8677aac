import CModbus

/// The libmodbus this binary runs with.
public enum ModbusLibrary {
    /// Version of the loaded library (libmodbus exports it as data, not only as a macro).
    public static var version: String { "\(libmodbus_version_major).\(libmodbus_version_minor).\(libmodbus_version_micro)" }
}
