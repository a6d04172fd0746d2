using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Voting.Testing;

/// <summary>What a stranger on the network sees of a port that requires mutual TLS.</summary>
public static class TlsProbe
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A TLS handshake with <paramref name="endpoint"/>, presenting <paramref name="clientCertificate"/> and accepting
    /// only <paramref name="expectedServer"/> as the server's certificate. Throws when the server refuses the client:
    /// in the handshake, or (TLS 1.3, where the server judges the client's certificate after the client has finished)
    /// by an alert or a closed connection on the first read.
    /// </summary>
    public static async Task HandshakeAsync(IPEndPoint endpoint, X509Certificate2 expectedServer, X509Certificate2? clientCertificate)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(endpoint);
        await using var tls = new SslStream(socket.GetStream(), leaveInnerStreamOpen: false,
            (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(expectedServer.RawData));
        using var timeout = new CancellationTokenSource(Patience);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "voting-cluster",
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        }, timeout.Token);

        await tls.WriteAsync(new byte[] { 0 }, timeout.Token);
        using var briefly = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        briefly.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            if (await tls.ReadAsync(new byte[1], briefly.Token) == 0)
            {
                throw new AuthenticationException("The server closed the connection after the handshake.");
            }
        }
        catch (OperationCanceledException) when (!timeout.IsCancellationRequested)
        {
            // Still open, waiting for the rest of a preamble: accepted.
        }
    }

    /// <summary>
    /// Sends <paramref name="clearText"/> (what a member without TLS would send first) and returns what comes back
    /// before the server closes the connection.
    /// </summary>
    public static async Task<byte[]> AnswerToClearTextAsync(IPEndPoint endpoint, byte[] clearText)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(endpoint);
        var stream = socket.GetStream();
        await stream.WriteAsync(clearText);
        using var timeout = new CancellationTokenSource(Patience);
        var answer = new MemoryStream();
        var buffer = new byte[1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                answer.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // Reset by the server: closed.
        }

        return answer.ToArray();
    }

    /// <summary>Whether <paramref name="answer"/> is nothing, or only TLS alert records (content type 21).</summary>
    public static bool IsNothingButTlsAlerts(byte[] answer) => answer.Length == 0 || answer[0] == 0x15;
}
