using System.Net;
using System.Net.Sockets;

namespace Voting.Local;

/// <summary>
/// Loopback ports nobody listens on right now, and that no process of this machine handed out in the last hours: the
/// test projects run in parallel processes, each handing out ports for servers it starts later, and two of them once
/// handed out the same one (a balancer then failed to bind it). Every process records what it hands out in one ledger
/// (<see cref="Ledger"/>), read and written under an exclusive lock.
/// </summary>
public static class FreePort
{
    private static readonly HashSet<int> Handed = [];

    /// <summary>The machine-wide ledger of handed-out ports: a line per port, with when it was handed out.</summary>
    private static readonly string Ledger = Path.Combine(Path.GetTempPath(), "voting-free-ports.ledger");

    /// <summary>How long a handed-out port stays reserved for its process (longer than any test run or load run).</summary>
    private static readonly TimeSpan Reserved = TimeSpan.FromHours(6);

    /// <summary>A port the OS considers free and that this process has not handed out before.</summary>
    public static int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            lock (Handed)
            {
                if (!Handed.Contains(port) && ClaimOnMachine([port]))
                {
                    Handed.Add(port);
                    return port;
                }
            }
        }
    }

    /// <summary>
    /// The first of <paramref name="count"/> consecutive ports that are all free now and were not handed out before,
    /// for a system whose ports are a base plus an index (<c>./voting up</c>'s <c>VOTING_*_BASE</c> settings). They lie
    /// below the kernel's ephemeral range, so no outgoing connection takes one before the process that is to listen
    /// on it starts, which may be much later.
    /// </summary>
    public static int NextRange(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var below = EphemeralRangeStart();
        while (true)
        {
            var first = Random.Shared.Next(10_000, below - count);
            var ports = Enumerable.Range(first, count).ToArray();
            lock (Handed)
            {
                if (ports.Any(Handed.Contains) || !ports.All(IsFree) || !ClaimOnMachine(ports))
                {
                    continue;
                }

                Handed.UnionWith(ports);
            }

            return first;
        }
    }

    /// <summary>
    /// Records <paramref name="ports"/> in the machine's ledger unless another process handed one of them out within
    /// <see cref="Reserved"/>; forgets older entries. The ledger is held open exclusively (.NET takes an advisory lock
    /// for <see cref="FileShare.None"/>) while it is read and written; a ledger that cannot be used at all (another
    /// process holds it for seconds, or the temp directory refuses it) leaves this process's own record as the only one.
    /// </summary>
    private static bool ClaimOnMachine(IReadOnlyCollection<int> ports)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            try
            {
                using var file = new FileStream(Ledger, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                var kept = new List<(int Port, long At)>();
                using (var reader = new StreamReader(file, leaveOpen: true))
                {
                    while (reader.ReadLine() is { } line)
                    {
                        var fields = line.Split(' ');
                        if (fields.Length == 2 && int.TryParse(fields[0], out var port) && long.TryParse(fields[1], out var at) && now - at < Reserved.TotalSeconds)
                        {
                            kept.Add((port, at));
                        }
                    }
                }

                if (kept.Any(k => ports.Contains(k.Port)))
                {
                    return false;
                }

                kept.AddRange(ports.Select(p => (p, now)));
                file.SetLength(0);
                file.Position = 0;
                using var writer = new StreamWriter(file);
                foreach (var (port, at) in kept)
                {
                    writer.Write(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    writer.Write(' ');
                    writer.WriteLine(at.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                return true;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // Another process holds the ledger for a moment.
                Thread.Sleep(Random.Shared.Next(5, 25));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return true;
            }
        }
    }

    private static int EphemeralRangeStart()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture) is var start and > 20_000 ? start : 32_768;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 32_768;
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
