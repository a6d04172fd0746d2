namespace Voting.Results.Tallies;

/// <summary>Settings of the results app (section <c>Results</c>).</summary>
public sealed class ResultsOptions
{
    public const string SectionName = "Results";

    /// <summary>How often the live page's feed reads the tallies.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the pipeline status (backlog and drain rate per front end) is asked of the cluster.</summary>
    public TimeSpan PipelineRefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often, until the poll is sealed, the results app asks PostgreSQL whether it is (then it loads the seal, once).</summary>
    public TimeSpan SealRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);
}
