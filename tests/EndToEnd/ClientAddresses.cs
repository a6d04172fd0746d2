using System.Globalization;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// Client addresses for tests that speak for many voters from one machine: each call gives an IPv6 /64 of its own
/// from the documentation range 2001:db8::/32, presented in <c>X-Forwarded-For</c> as a trusted proxy hop would (the
/// test runs on loopback, which the front ends and the balancer trust). The front ends keep their per-address limits
/// under each one, as they would for voters from all over; the limits themselves stay at their defaults.
/// </summary>
internal static class ClientAddresses
{
    private static int _next;

    /// <summary>An address no other call in this test run gets.</summary>
    public static string Next()
    {
        var n = (uint)Interlocked.Increment(ref _next);
        return string.Create(CultureInfo.InvariantCulture, $"2001:db8:{n >> 16:x}:{n & 0xFFFF:x}::1");
    }
}
