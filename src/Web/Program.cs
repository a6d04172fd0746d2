using Voting.ServiceDefaults;
using Voting.Web.Frontend;
using Voting.Web.Voting;

return VotingHost.Run(() =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddVotingServiceDefaults();
    builder.AddVotingFrontend();

    var app = builder.Build();
    app.UseVotingFrontend();
    app.MapVotingDefaultEndpoints();
    app.MapVotingEndpoints();
    return app;
});
