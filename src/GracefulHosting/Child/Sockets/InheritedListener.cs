namespace GracefulHosting.Child.Sockets;

/// <summary>A listening socket this process was given, and the endpoint Kestrel asked for that it stands in for.</summary>
/// <param name="Fd">The descriptor, this process's own.</param>
/// <param name="Endpoint">The endpoint (text of <see cref="Endpoints.EndpointText"/>).</param>
internal sealed record InheritedListener(int Fd, string Endpoint);
