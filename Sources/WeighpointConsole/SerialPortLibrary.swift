import CSerialPort

/// The libserialport this binary runs with.
public enum SerialPortLibrary {
    public static var version: String { String(cString: sp_get_package_version_string()) }
}
