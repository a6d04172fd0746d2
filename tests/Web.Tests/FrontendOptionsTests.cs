using Voting.Web.Frontend;

namespace Voting.Web.Tests;

/// <summary>The address a front end announces to load balancers.</summary>
public sealed class FrontendOptionsTests
{
    [Theory]
    [InlineData(null, "http://127.0.0.1:8081", "http://127.0.0.1:8081/")]
    [InlineData(null, "http://127.0.0.1:8081;http://127.0.0.1:9000", "http://127.0.0.1:8081/")]
    [InlineData("http://frontend01:8080", "http://+:8080", "http://frontend01:8080/")]
    [InlineData("https://vote.example:443/some/path", null, "https://vote.example/")]
    [InlineData(" http://frontend02:8080/ ", "http://127.0.0.1:1", "http://frontend02:8080/")]
    public void TheAdvertisedUrlIsTheSettingOrElseTheFirstListeningAddress(string? advertised, string? urls, string expected)
    {
        var options = new FrontendOptions { AdvertisedUrl = advertised };

        Assert.Equal(new Uri(expected), options.EffectiveAdvertisedUrl(urls));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(null, "http://+:8080")]
    [InlineData(null, "http://*:8080")]
    [InlineData(null, "http://0.0.0.0:8080")]
    [InlineData(null, "http://[::]:8080")]
    [InlineData("ftp://frontend01/", "http://127.0.0.1:8081")]
    [InlineData("frontend01:8080", "http://127.0.0.1:8081")]
    public void NoAddressComesOfAWildcardOrAnUnusableUrl(string? advertised, string? urls)
    {
        var options = new FrontendOptions { AdvertisedUrl = advertised };

        Assert.Null(options.EffectiveAdvertisedUrl(urls));
    }
}
