using Voting.Results.Final;
using Voting.Results.Limits;
using Voting.Results.Receipts;
using Voting.Results.Tallies;
using Voting.ServiceDefaults;
using Voting.ServiceDefaults.Edge;
using Voting.Storage.Hosting;

return VotingHost.Run(() =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddVotingServiceDefaults();
    builder.AddVotingPostgres();
    builder.AddVotingResults();

    var app = builder.Build();
    app.UseVotingForwardedHeaders();
    app.UseExceptionHandler();
    app.UseVotingEdgeTls();
    app.UseResultsLimits();
    app.UseStaticFiles();
    app.UseOutputCache();
    app.MapVotingDefaultEndpoints();
    app.MapResultsEndpoints();
    app.MapFinalResults();
    app.MapReceipts();
    return app;
});
