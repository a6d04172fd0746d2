namespace Voting.Local.Applications;

/// <summary>
/// The loopback ports an application listens on: its public HTTP port, its management port (the dashboard, metrics,
/// health details and operator APIs, with the management token), and the silo and gateway ports of a silo host.
/// </summary>
public sealed record AppPorts(int Http, int Management, int? Silo = null, int? Gateway = null)
{
    /// <summary>Ports nobody listens on now, for a process started next to others (tests).</summary>
    public static AppPorts Free(bool silo = false, bool gateway = false) =>
        new(FreePort.Next(), FreePort.Next(), silo ? FreePort.Next() : null, gateway ? FreePort.Next() : null);
}
