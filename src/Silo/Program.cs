using Orleans.Dashboard;
using Voting.ServiceDefaults;
using Voting.ServiceDefaults.Management;
using Voting.Silo;
using Voting.Silo.Pipeline;
using Voting.Silo.Poll;
using Voting.Silo.Sealing;
using Voting.Storage.Hosting;

return VotingHost.Run(() =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddVotingServiceDefaults();
    builder.AddVotingPostgres();
    builder.AddVotingWorkerSilo();
    builder.AddVotingSealing();

    var app = builder.Build();
    app.MapVotingDefaultEndpoints();
    app.MapOrleansDashboard(routePrefix: "/dashboard").RequireManagement();
    app.MapPipelineEndpoints();
    app.MapPollEndpoints();
    app.MapSealEndpoints();
    app.MapGet("/", () => TypedResults.Redirect("/dashboard/")).RequireManagement();
    return app;
});
