using System.Net;
using System.Text;
using System.Text.Json;
using Voting.Sealing.Merkle;
using Voting.Sealing.Receipts;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// <c>GET /api/receipts/{voteId}?code=</c> on the released seal (<see cref="SealedPollFixture"/>): every voter's latest
/// vote is included, every earlier one superseded by it, each with a proof that verifies against the signed
/// manifest's root; a vote later than the voter's ballot is not counted; a wrong code, or a vote id with another
/// voter's code, finds nothing; what is not a receipt is a 400.
/// </summary>
[Collection(SealedPollCollection.Name)]
public sealed class ReceiptLookupApiTests(SealedPollFixture poll)
{
    [Fact]
    public async Task EveryLatestVoteIsIncludedWithAProofOfTheSignedRoot()
    {
        foreach (var vote in poll.Latest)
        {
            var answer = await LookUpAsync(vote.Vote, poll.CodeOf(vote.Voter));

            Assert.True(answer.Status == HttpStatusCode.OK, answer.Text);
            Assert.Equal("included", answer.Json.GetProperty("status").GetString());
            Assert.Equal(vote.Vote.ToString("D"), answer.Json.GetProperty("voteId").GetString());
            var ballot = AssertProves(answer.Json.GetProperty("proof"), vote.Voter);
            Assert.Equal(vote.Vote.ToString("D"), ballot.GetProperty("voteId").GetString());
            Assert.Equal(vote.Option, ballot.GetProperty("option").GetString());
        }
    }

    [Fact]
    public async Task AnEarlierVoteIsSupersededAndTheVotersLaterBallotIsProved()
    {
        Assert.NotEmpty(poll.Superseded);
        foreach (var vote in poll.Superseded)
        {
            var answer = await LookUpAsync(vote.Vote, poll.CodeOf(vote.Voter));

            Assert.True(answer.Status == HttpStatusCode.OK, answer.Text);
            Assert.Equal("superseded", answer.Json.GetProperty("status").GetString());
            Assert.Equal(vote.Vote.ToString("D"), answer.Json.GetProperty("voteId").GetString());
            var ballot = AssertProves(answer.Json.GetProperty("proof"), vote.Voter);
            var latest = poll.Latest.Single(v => v.Voter == vote.Voter);
            Assert.Equal(latest.Vote.ToString("D"), ballot.GetProperty("voteId").GetString());
            Assert.Equal(latest.Option, ballot.GetProperty("option").GetString());
        }
    }

    [Fact]
    public async Task AVoteLaterThanTheVotersBallotIsNotCounted()
    {
        var voter = poll.Latest.First().Voter;

        var answer = await LookUpAsync(Guid.CreateVersion7(DateTimeOffset.UtcNow.AddMinutes(1)), poll.CodeOf(voter));

        Assert.Equal(HttpStatusCode.NotFound, answer.Status);
        Assert.Equal("not-counted", answer.Json.GetProperty("status").GetString());
        Assert.Contains("report this receipt", answer.Json.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.False(answer.Json.TryGetProperty("proof", out _));
    }

    [Fact]
    public async Task AWrongCodeOrAVoteIdWithAnotherVotersCodeFindsNothing()
    {
        var (mine, theirs) = (poll.Latest.First(), poll.Latest.Last());
        Assert.True(ReceiptCode.TryParse("ZZZZ-ZZZZ-ZZZZ", out var unknown));

        foreach (var answer in new[]
        {
            await LookUpAsync(mine.Vote, poll.CodeOf(theirs.Voter)),
            await LookUpAsync(mine.Vote, unknown.Value),
            await LookUpAsync(Guid.CreateVersion7(), unknown.Value),
        })
        {
            Assert.Equal(HttpStatusCode.NotFound, answer.Status);
            Assert.Equal("not-found", answer.Json.GetProperty("status").GetString());
            Assert.Contains("No sealed ballot matches", answer.Json.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain(mine.Option + "\"", answer.Text.Replace("\"not-found\"", "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AReceiptIsReadAsAVoterMayTypeIt()
    {
        var vote = poll.Latest.First();
        var typed = poll.CodeOf(vote.Voter).ToString().ToLowerInvariant().Replace("-", " ", StringComparison.Ordinal);

        var answer = await poll.AskAsync($"api/receipts/{vote.Vote.ToString("D").ToUpperInvariant()}?code={Uri.EscapeDataString(typed)}");

        Assert.True(answer.Status == HttpStatusCode.OK, answer.Text);
        Assert.Equal("included", answer.Json.GetProperty("status").GetString());
        Assert.Equal(vote.Vote.ToString("D"), answer.Json.GetProperty("voteId").GetString());
    }

    [Theory]
    [InlineData("api/receipts/not-a-uuid?code=04HM-ASW9-NF6Y", "is not a vote id")]
    [InlineData("api/receipts/0193a7f2-1c2e-7abc-8def-0123456789ab", "code is missing")]
    [InlineData("api/receipts/0193a7f2-1c2e-7abc-8def-0123456789ab?code=", "code is missing")]
    [InlineData("api/receipts/0193a7f2-1c2e-7abc-8def-0123456789ab?code=04HM-ASW9", "is not a receipt code")]
    [InlineData("api/receipts/0193a7f2-1c2e-7abc-8def-0123456789ab?code=UUUU-UUUU-UUUU", "is not a receipt code")]
    [InlineData("api/receipts/0193a7f21c2e7abc8def0123456789ab?code=04HM-ASW9-NF6Y", "is not a vote id")]
    public async Task WhatIsNotAReceiptIsABadRequestSayingWhy(string path, string sentence)
    {
        var answer = await poll.AskAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains(sentence, answer.Json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private Task<Answer> LookUpAsync(Guid vote, ReceiptCode code) => poll.AskAsync(SealedPollFixture.ReceiptPath(vote, code));

    /// <summary>Checks a proof as a voter's browser does, against the root of the manifest the worker signed; answers its ballot.</summary>
    private JsonElement AssertProves(JsonElement proof, Guid voter)
    {
        var manifest = JsonDocument.Parse(poll.WorkersManifest).RootElement;
        var root = manifest.GetProperty("merkleRoot").GetString()!;
        var ballot = proof.GetProperty("ballot");
        var leaf = proof.GetProperty("leaf").GetString()!;
        Assert.Equal(root, proof.GetProperty("merkleRoot").GetString());
        Assert.Equal(poll.Pseudonyms.Of(voter).ToString(), ballot.GetProperty("pseudonym").GetString());
        Assert.Equal($"{ballot.GetProperty("pseudonym").GetString()},{ballot.GetProperty("voteId").GetString()},{ballot.GetProperty("option").GetString()}", leaf);
        Assert.Equal(manifest.GetProperty("ballots").GetInt64(), proof.GetProperty("treeSize").GetInt64());
        Assert.Equal("/api/results/final/manifest.json", proof.GetProperty("manifestUrl").GetString());
        Assert.Equal("/api/results/final/public-key.pem", proof.GetProperty("publicKeyUrl").GetString());
        var inclusion = new InclusionProof(
            proof.GetProperty("leafIndex").GetInt64(), proof.GetProperty("treeSize").GetInt64(),
            [.. proof.GetProperty("auditPath").EnumerateArray().Select(h => Convert.FromHexString(h.GetString()!))]);
        Assert.True(inclusion.Verifies(MerkleHash.Leaf(Encoding.UTF8.GetBytes(leaf)), Convert.FromHexString(root)), $"the proof of {leaf} does not verify");
        return ballot;
    }
}
