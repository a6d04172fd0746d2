using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Voting.Sealing.Manifest;

/// <summary>
/// manifest.json's bytes. The manifest is one line of JSON with its members in a fixed order and no whitespace;
/// the signature is its last member. The signed bytes are the file's bytes before <c>,"signature":</c> followed by
/// <c>}</c> — exactly the manifest without its signature, as <see cref="SignedBytes"/> writes it.
/// </summary>
public static class ManifestJson
{
    public const string SignatureAlgorithm = "ECDSA-P256-SHA256-P1363";

    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    private static readonly byte[] SignatureMember = Encoding.UTF8.GetBytes(",\"signature\":");

    private static readonly string[] Members =
    [
        "format", "pollId", "pollName", "openedAt", "closedAt", "sealedAt", "options", "tallies", "total", "frontends",
        "ballots", "leaf", "tree", "merkleRoot", "ballotsSha256",
    ];

    /// <summary>The manifest's canonical bytes without a signature: the bytes that are signed.</summary>
    public static byte[] SignedBytes(SealManifest manifest)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            json.WriteStartObject();
            json.WriteString("format", manifest.Format);
            json.WriteString("pollId", manifest.PollId);
            json.WriteString("pollName", manifest.PollName);
            if (manifest.OpenedAt is { } openedAt)
            {
                json.WriteString("openedAt", FormatTime(openedAt));
            }
            else
            {
                json.WriteNull("openedAt");
            }

            json.WriteString("closedAt", FormatTime(manifest.ClosedAt));
            json.WriteString("sealedAt", FormatTime(manifest.SealedAt));
            json.WriteStartArray("options");
            foreach (var option in manifest.Options)
            {
                json.WriteStringValue(option);
            }

            json.WriteEndArray();
            json.WriteStartObject("tallies");
            for (var i = 0; i < manifest.Options.Count; i++)
            {
                json.WriteNumber(manifest.Options[i], manifest.Tallies[i]);
            }

            json.WriteEndObject();
            json.WriteNumber("total", manifest.Total);
            json.WriteStartObject("frontends");
            foreach (var (frontend, count) in manifest.Frontends)
            {
                json.WriteNumber(frontend, count);
            }

            json.WriteEndObject();
            json.WriteNumber("ballots", manifest.Ballots);
            json.WriteString("leaf", manifest.Leaf);
            json.WriteString("tree", manifest.Tree);
            json.WriteString("merkleRoot", manifest.MerkleRoot);
            json.WriteString("ballotsSha256", manifest.BallotsSha256);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>manifest.json: <paramref name="signedBytes"/> with the signature as its last member.</summary>
    public static byte[] WithSignature(byte[] signedBytes, byte[] signature)
    {
        var member = Encoding.UTF8.GetBytes(
            $",\"signature\":{{\"algorithm\":\"{SignatureAlgorithm}\",\"value\":\"{Convert.ToBase64String(signature)}\"}}}}");
        return [.. signedBytes.AsSpan(0, signedBytes.Length - 1), .. member];
    }

    /// <summary>Splits manifest.json into the signed bytes and the signature, or says why it cannot.</summary>
    public static bool TrySplit(byte[] file, out byte[] signedBytes, out byte[] signature, out string problem)
    {
        signedBytes = [];
        signature = [];
        var at = file.AsSpan().LastIndexOf(SignatureMember);
        if (at < 0)
        {
            problem = "manifest.json has no \"signature\" member";
            return false;
        }

        signedBytes = [.. file.AsSpan(0, at), (byte)'}'];
        try
        {
            using var document = JsonDocument.Parse(file);
            var member = document.RootElement.GetProperty("signature");
            var algorithm = member.GetProperty("algorithm").GetString();
            if (algorithm != SignatureAlgorithm)
            {
                problem = $"manifest.json's signature algorithm is '{algorithm}', not {SignatureAlgorithm}";
                return false;
            }

            signature = member.GetProperty("value").GetBytesFromBase64();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            problem = "manifest.json's signature cannot be read: " + e.Message;
            return false;
        }

        problem = "";
        return true;
    }

    /// <summary>The manifest in <paramref name="signedBytes"/> (the signed bytes), checking each member's presence, type and order.</summary>
    public static SealManifest Parse(byte[] signedBytes)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(signedBytes);
        }
        catch (JsonException e)
        {
            throw new ManifestFormatException("manifest.json is not JSON: " + e.Message);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ManifestFormatException("manifest.json is not a JSON object");
            }

            var names = root.EnumerateObject().Select(p => p.Name).ToArray();
            if (!names.SequenceEqual(Members))
            {
                throw new ManifestFormatException($"manifest.json's members are {string.Join(", ", names)}; expected {string.Join(", ", Members)}, in that order");
            }

            var options = root.GetProperty("options").EnumerateArray().Select(o => o.GetString()!).ToArray();
            var tallies = root.GetProperty("tallies").EnumerateObject().ToArray();
            if (!tallies.Select(t => t.Name).SequenceEqual(options))
            {
                throw new ManifestFormatException("manifest.json's tallies do not name the options, in their order");
            }

            return new SealManifest(
                String(root, "pollId"),
                String(root, "pollName"),
                root.GetProperty("openedAt").ValueKind == JsonValueKind.Null ? null : Time(root, "openedAt"),
                Time(root, "closedAt"),
                Time(root, "sealedAt"),
                options,
                [.. tallies.Select(t => Number(t.Value, "tallies." + t.Name))],
                Number(root.GetProperty("total"), "total"),
                [.. root.GetProperty("frontends").EnumerateObject().Select(f => KeyValuePair.Create(f.Name, Number(f.Value, "frontends." + f.Name)))],
                Number(root.GetProperty("ballots"), "ballots"),
                String(root, "merkleRoot"),
                String(root, "ballotsSha256"))
            {
                Format = String(root, "format"),
                Leaf = String(root, "leaf"),
                Tree = String(root, "tree"),
            };
        }
    }

    private static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    private static string String(JsonElement root, string name) =>
        root.GetProperty(name) is { ValueKind: JsonValueKind.String } value
            ? value.GetString()!
            : throw new ManifestFormatException($"manifest.json's {name} is not a string");

    private static DateTimeOffset Time(JsonElement root, string name) =>
        DateTimeOffset.TryParseExact(String(root, name), TimeFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new ManifestFormatException($"manifest.json's {name} is not a UTC time like 2026-02-08T23:30:00.000Z");

    private static long Number(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= 0
            ? number
            : throw new ManifestFormatException($"manifest.json's {name} is not a whole number of ballots");
}

/// <summary>manifest.json is not a manifest of this format; the message says where.</summary>
public sealed class ManifestFormatException(string message) : Exception(message);
