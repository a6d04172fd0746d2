using Microsoft.Extensions.Options;

namespace Voting.Grains.Identity;

/// <summary>
/// Judges the votes of one shard of voters against each voter's latest accepted vote. Not reentrant: a shard is the
/// per-voter point of serialisation, so batches from different drainers are judged one after the other.
/// </summary>
public sealed class VoterIdentityGrain(IOptions<VoterIdentityOptions> options) : Grain, IVoterIdentityGrain
{
    private readonly AcceptedVotes _accepted = new(options.Value.MaxVotersPerShard);

    // One string instance per option, shared by every remembered voter, instead of one per deserialised vote.
    private readonly List<string> _options = [];

    public Task<Verdict[]> JudgeAsync(BallotBatch batch)
    {
        var ballots = batch.Ballots;
        var verdicts = new Verdict[ballots.Length];
        // Index of the ballot of each voter that this batch will write, so a later ballot of the same voter in the
        // same batch supersedes it: a batch writes at most one row per voter.
        Dictionary<Guid, int>? written = null;

        for (var i = 0; i < ballots.Length; i++)
        {
            var ballot = ballots[i];
            var verdict = Judge(ballot);
            verdicts[i] = verdict;
            if (!verdict.MustBeWritten())
            {
                continue;
            }

            written ??= new Dictionary<Guid, int>(ballots.Length);
            if (written.TryGetValue(ballot.VoterId, out var earlier))
            {
                verdicts[earlier] = Verdict.Superseded;
            }

            written[ballot.VoterId] = i;
        }

        VotingMetrics.RecordVerdicts(verdicts);
        return Task.FromResult(verdicts);
    }

    private Verdict Judge(in Ballot ballot)
    {
        if (!_accepted.TryGet(ballot.VoterId, out var accepted))
        {
            _accepted.Set(ballot.VoterId, new AcceptedVote(ballot.VoteId, ballot.Timestamp, Intern(ballot.Option)));
            return Verdict.New;
        }

        if (accepted.VoteId == ballot.VoteId)
        {
            return Verdict.Redelivered;
        }

        if (!ballot.IsLaterThan(accepted.Timestamp, accepted.VoteId))
        {
            return Verdict.Superseded;
        }

        var option = Intern(ballot.Option);
        _accepted.Set(ballot.VoterId, new AcceptedVote(ballot.VoteId, ballot.Timestamp, option));
        return ReferenceEquals(option, accepted.Option) ? Verdict.Unchanged : Verdict.Changed;
    }

    private string Intern(string option)
    {
        foreach (var known in _options)
        {
            if (string.Equals(known, option, StringComparison.Ordinal))
            {
                return known;
            }
        }

        _options.Add(option);
        return option;
    }
}
