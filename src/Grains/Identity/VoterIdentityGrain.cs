using Microsoft.Extensions.Options;

namespace Voting.Grains.Identity;

/// <summary>
/// Judges the votes of one shard of voters against each voter's latest accepted vote. The verdicts decide nothing
/// across batches — every vote is written, and PostgreSQL's upsert alone keeps the latest — they say what each vote is
/// (<c>voting.verdicts</c>: new voters, changes, late arrivals, redeliveries), and within a batch they keep one vote
/// per voter. Not reentrant: batches from different drainers are judged one after the other.
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
        // Index of the latest vote of each voter in this batch, the one the batch writes: the others are committed
        // or lost with it, so they need not travel (PostgreSQL would keep only the latest of them anyway).
        var latest = new Dictionary<Guid, int>(votes.Length);

        for (var i = 0; i < votes.Length; i++)
        {
            var vote = votes[i];
            verdicts[i] = Judge(vote);
            if (!latest.TryGetValue(vote.VoterId, out var other))
            {
                latest.Add(vote.VoterId, i);
            }
            else if (vote.IsLaterThan(votes[other]))
            {
                verdicts[other] = Verdict.SupersededInBatch;
                latest[vote.VoterId] = i;
            }
            else
            {
                verdicts[i] = Verdict.SupersededInBatch;
            }
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
