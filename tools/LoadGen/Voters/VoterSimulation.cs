using Voting.LoadGen.Auditing;

namespace Voting.LoadGen.Voters;

/// <summary>How a simulated voter votes.</summary>
internal enum VoterKind
{
    /// <summary>One vote.</summary>
    Once,

    /// <summary>Two or three votes one after the other, each for another option, possibly through other front ends.</summary>
    Changer,

    /// <summary>The same vote twice at the same time (a double click, or a retry racing the first try).</summary>
    DoubleSubmitter,
}

/// <summary>
/// One simulated browser: opens the vote page on a front end (round-robin), keeps the voter cookie it gets, and votes
/// through front ends chosen at random, presenting its simulated client address (<see cref="SimulatedAddresses"/>);
/// in the stuffing scenario, one JSON vote per identity from the tool's own address. Its choices come from the run's seed and the voter's number, so a run can
/// be repeated; the voter ids cannot, the front ends choose them. Each answer goes into the ground truth.
/// </summary>
internal sealed class VoterSimulation(LoadOptions options, VoteRequests requests, VoteClient client, GroundTruth truth, Pacer pacer)
{
    private int _started;

    /// <summary>Voters that have begun (opened their page).</summary>
    public int Started => Volatile.Read(ref _started);

    public async Task RunAsync(int index, CancellationToken sending, CancellationToken abort)
    {
        var random = new SplitMix64(options.Seed, index);
        var stuffing = options.Scenario == LoadScenario.Stuffing;
        var kind = random.NextDouble() switch
        {
            _ when stuffing => VoterKind.Once,
            var r when r < options.ChangeShare => VoterKind.Changer,
            var r when r < options.ChangeShare + options.DoubleShare => VoterKind.DoubleSubmitter,
            _ => VoterKind.Once,
        };
        var form = !stuffing && random.NextDouble() < options.FormShare;
        var option = random.Next(requests.Count);
        // A crowd comes from many addresses, through a trusted hop; the stuffer from its own, and nothing forwarded.
        var address = options.AddressOf(index);

        Interlocked.Increment(ref _started);
        var cookieHeader = await client.OpenPageAsync(index % client.Frontends, address, abort);
        if (cookieHeader is null || VoteClient.VoterIdOf(cookieHeader) is not { } voterId)
        {
            return;
        }

        truth.Begin(index, voterId);
        switch (kind)
        {
            case VoterKind.Once:
                if (await pacer.WaitAsync(sending))
                {
                    Apply(index, option, form, await client.VoteAsync(random.Next(client.Frontends), address, cookieHeader, voterId, option, form, abort));
                }

                break;

            case VoterKind.Changer:
                // Each change goes out as soon as the previous vote is answered, to any front end, often within the
                // same millisecond: the cookie that answer set orders the change after it, whatever the clocks say.
                var votes = 2 + random.Next(2);
                for (var vote = 0; vote < votes; vote++)
                {
                    if (vote > 0)
                    {
                        option = AnotherOption(ref random, option);
                    }

                    if (!await pacer.WaitAsync(sending))
                    {
                        break;
                    }

                    var answer = await client.VoteAsync(random.Next(client.Frontends), address, cookieHeader, voterId, option, form, abort);
                    Apply(index, option, form, answer);
                    cookieHeader = answer.Cookie ?? cookieHeader;
                }

                break;

            case VoterKind.DoubleSubmitter:
                if (!await pacer.WaitAsync(sending))
                {
                    break;
                }

                var first = client.VoteAsync(random.Next(client.Frontends), address, cookieHeader, voterId, option, form, abort);
                var second = await pacer.WaitAsync(sending)
                    ? client.VoteAsync(random.Next(client.Frontends), address, cookieHeader, voterId, option, form, abort)
                    : Task.FromResult(new VoteAnswer(VoteResult.NotSent));
                // Both answers are applied once both are in: the ground truth of a voter is written by one thread at a time.
                var answers = await Task.WhenAll(first, second);
                Apply(index, option, form, answers[0]);
                Apply(index, option, form, answers[1]);
                break;
        }
    }

    private void Apply(int index, int option, bool form, VoteAnswer answer)
    {
        if (answer is { Result: VoteResult.Acknowledged, Code: { } code } && answer.VoteId != Guid.Empty)
        {
            truth.Receipt(index, option, answer.VoteId, code);
        }

        switch (answer.Result)
        {
            case VoteResult.Acknowledged when form:
                truth.AcknowledgeForm(index, option);
                break;
            case VoteResult.Acknowledged:
                truth.Acknowledge(index, option, answer.VoteId, answer.AcceptedAt);
                break;
            case VoteResult.Unconfirmed:
                truth.Unconfirmed(index, option);
                break;
            case VoteResult.Refused:
            case VoteResult.NotSent:
                break;
        }
    }

    private int AnotherOption(ref SplitMix64 random, int option) =>
        requests.Count < 2 ? option : (option + 1 + random.Next(requests.Count - 1)) % requests.Count;
}

/// <summary>A small, fast, seedable random sequence (SplitMix64), one per voter, without allocation.</summary>
internal struct SplitMix64(int seed, int stream)
{
    private ulong _state = ((ulong)(uint)seed << 32) | (uint)stream;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, <paramref name="count"/>).</summary>
    public int Next(int count) => (int)(NextUInt64() % (ulong)count);
}
