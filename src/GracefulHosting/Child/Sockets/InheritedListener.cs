namespace GracefulHosting.Child.Sockets;

// A socket this process was given, and the endpoint (in EndpointText's form) it stands in for.
internal sealed record InheritedListener(int Fd, string Endpoint);
