using System.Net;
using System.Security.Cryptography.X509Certificates;
using Voting.Local.Tls;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// Every silo and gateway port of the running system — the worker's and each front end's — speaks nothing but mutual
/// TLS, and completes a handshake only with a peer presenting the cluster's certificate: a process without it can
/// neither join the cluster nor call a grain.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed class ClusterTlsTests(VotingSystemFixture system)
{
    private readonly X509Certificate2 _member = X509Certificate2.CreateFromPemFile(TestApps.ClusterCertificate.CertificatePath, TestApps.ClusterCertificate.KeyPath);

    private IEnumerable<IPEndPoint> OrleansPorts()
    {
        var silos = new[] { system.Worker }.Concat(system.Frontends.Select(f => f.App));
        foreach (var ports in silos.Select(s => s.Launch.Ports))
        {
            yield return new IPEndPoint(IPAddress.Loopback, ports.Silo!.Value);
            if (ports.Gateway is > 0 and var gateway)
            {
                yield return new IPEndPoint(IPAddress.Loopback, gateway);
            }
        }
    }

    [Fact]
    public async Task EverySiloAndGatewayPortRefusesAPeerWithoutTheClusterCertificate()
    {
        var (stranger, strangerKey) = ClusterCertificate.Create("voting-cluster", DateTimeOffset.UtcNow);
        using var strangerCertificate = X509Certificate2.CreateFromPem(stranger, strangerKey);
        var ports = OrleansPorts().ToArray();
        Assert.True(ports.Length >= 4, "The worker's silo and gateway ports and two front ends' silo ports.");
        foreach (var port in ports)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => TlsProbe.HandshakeAsync(port, _member, clientCertificate: null));
            await Assert.ThrowsAnyAsync<Exception>(() => TlsProbe.HandshakeAsync(port, _member, strangerCertificate));
            var answer = await TlsProbe.AnswerToClearTextAsync(port, [0, 0, 0, 16, .. new byte[16]]);
            Assert.True(TlsProbe.IsNothingButTlsAlerts(answer), $"Port {port} answered {answer.Length} bytes in the clear.");

            // The control: a member's certificate is accepted, and the server presents the cluster's.
            await TlsProbe.HandshakeAsync(port, _member, _member);
        }
    }
}
