using Voting.Balancer.Routing;
using Voting.ServiceDefaults;

return VotingHost.Run(() =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddVotingServiceDefaults();
    builder.AddVotingBalancer();

    var app = builder.Build();
    app.MapVotingDefaultEndpoints();
    app.MapVotingBalancer();
    return app;
});
