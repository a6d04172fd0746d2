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

    public Task<Verdict[]> JudgeAsync(VoteBatch batch)
    {
        var votes = batch.Votes;
        var verdicts = new Verdict[votes.Length];
        // Index of the vote of each voter that this batch will write, so a later vote of the same voter in the
        // same batch supersedes it: a batch writes at most one row per voter.
        Dictionary<Guid, int>? written = null;

        for (var i = 0; i < votes.Length; i++)
        {
            var vote = votes[i];
            var verdict = Judge(vote);
            verdicts[i] = verdict;
            if (!verdict.MustBeWritten())
            {
                continue;
            }

            written ??= new Dictionary<Guid, int>(votes.Length);
            if (written.TryGetValue(vote.VoterId, out var earlier))
            {
                verdicts[earlier] = Verdict.Superseded;
            }

            written[vote.VoterId] = i;
        }

        VotingMetrics.RecordVerdicts(verdicts);
        return Task.FromResult(verdicts);
    }

    private Verdict Judge(in Vote vote)
    {
        if (!_accepted.TryGet(vote.VoterId, out var accepted))
        {
            _accepted.Set(vote.VoterId, new AcceptedVote(vote.VoteId, vote.Timestamp, Intern(vote.Option)));
            return Verdict.New;
        }

        if (accepted.VoteId == vote.VoteId)
        {
            return Verdict.Redelivered;
        }

        if (!vote.IsLaterThan(accepted.Timestamp, accepted.VoteId))
        {
            return Verdict.Superseded;
        }

        var option = Intern(vote.Option);
        _accepted.Set(vote.VoterId, new AcceptedVote(vote.VoteId, vote.Timestamp, option));
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
