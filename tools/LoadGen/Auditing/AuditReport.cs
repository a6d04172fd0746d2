namespace Voting.LoadGen.Auditing;

/// <summary>What the audit found: this run's voters against their rows in <c>votes</c>, and the global tallies.</summary>
public sealed record AuditReport
{
    /// <summary>This run's voters that got a cookie.</summary>
    public required long Voters { get; init; }

    /// <summary>Voters with at least one acknowledged vote: each must have a row.</summary>
    public required long Acknowledged { get; init; }

    /// <summary>Votes acknowledged to this run's voters (a changer's earlier votes included).</summary>
    public required long AcknowledgedVotes { get; init; }

    /// <summary>Voters whose row holds a vote they may have: their latest acknowledged one, or an unconfirmed one.</summary>
    public required long Counted { get; init; }

    /// <summary>Acknowledged voters without a row.</summary>
    public required long Lost { get; init; }

    /// <summary>Acknowledged voters whose row holds an option they neither had acknowledged last nor left unconfirmed.</summary>
    public required long WrongOption { get; init; }

    /// <summary>Voters whose row has the right option but not the vote id of their latest receipt (nor an unconfirmed vote's).</summary>
    public required long WrongVoteId { get; init; }

    /// <summary>Voters without an acknowledged or unconfirmed vote who have a row anyway.</summary>
    public required long Unexpected { get; init; }

    /// <summary>Voters with a vote whose fate is unknown (no answer, or a 5xx): their row may hold that vote instead.</summary>
    public required long Uncertain { get; init; }

    /// <summary>Uncertain voters whose row holds an unconfirmed vote rather than their latest acknowledged one.</summary>
    public required long UncertainTookUnconfirmed { get; init; }

    /// <summary>Sum over options of the tally above the rows' count: votes counted more than once.</summary>
    public required long DoubleCounted { get; init; }

    /// <summary>Sum over options of the rows' count above the tally: rows the tallies miss.</summary>
    public required long MissingFromTallies { get; init; }

    /// <summary><c>SELECT option, sum(count) FROM tallies GROUP BY option</c>, over the whole database.</summary>
    public required IReadOnlyDictionary<string, long> Tallies { get; init; }

    /// <summary><c>SELECT option, count(*) FROM votes GROUP BY option</c>, read in the same statement as the tallies.</summary>
    public required IReadOnlyDictionary<string, long> Rows { get; init; }

    /// <summary>This run's voters' rows per option.</summary>
    public required IReadOnlyDictionary<string, long> RunRows { get; init; }

    /// <summary>This run's acknowledged voters per option of their latest acknowledged vote.</summary>
    public required IReadOnlyDictionary<string, long> RunExpected { get; init; }

    /// <summary>Every acknowledged voter's row was there and right (twice in a row) before the drain timeout.</summary>
    public required bool Drained { get; init; }

    /// <summary>From the start of the audit to the first of the readings that found everything written.</summary>
    public required TimeSpan DrainTime { get; init; }

    /// <summary>The results app's total, or null when not checked.</summary>
    public long? ResultsTotal { get; init; }

    /// <summary>Whether the results app reported the tallies' counts; null when not checked.</summary>
    public bool? ResultsAgree { get; init; }

    /// <summary>Why the results app could not be checked, if it could not.</summary>
    public string? ResultsProblem { get; init; }

    /// <summary>A few of the voters found lost or wrong, for a closer look.</summary>
    public required IReadOnlyList<string> Examples { get; init; }

    /// <summary>Wrong option, wrong vote id and rows nobody was promised, together.</summary>
    public long WrongChoice => WrongOption + WrongVoteId + Unexpected;

    /// <summary>Nothing lost, nothing counted twice, every row the latest acknowledged vote, tallies equal to the rows.</summary>
    public bool Passed => Lost == 0 && WrongChoice == 0 && DoubleCounted == 0 && MissingFromTallies == 0 && ResultsAgree != false;
}
