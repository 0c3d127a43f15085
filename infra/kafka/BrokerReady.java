import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;

/**
 * Exits 0 once the broker at args[0] answers a metadata request with a controller and at least
 * one (unfenced) broker: an open port alone does not mean the KRaft broker is ready. Asks again
 * every 200 ms for up to args[1] seconds (default 5), in one JVM. Run by run.sh.
 */
public final class BrokerReady {
  public static void main(String[] args) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(args.length > 1 ? Long.parseLong(args[1]) : 5);
    Properties properties = new Properties();
    properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    properties.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 1000);
    properties.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2000);
    properties.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
    String last = "no answer";
    try (Admin admin = Admin.create(properties)) {
      while (System.nanoTime() < deadline) {
        try {
          DescribeClusterResult cluster = admin.describeCluster();
          int brokers = cluster.nodes().get(2, TimeUnit.SECONDS).size();
          boolean controller = cluster.controller().get(2, TimeUnit.SECONDS) != null;
          if (brokers > 0 && controller) {
            System.out.println("cluster " + cluster.clusterId().get(2, TimeUnit.SECONDS) + ": " + brokers + " broker(s)");
            return;
          }
          last = "no broker or controller yet";
        } catch (Exception error) {
          last = error.toString();
        }
        Thread.sleep(200);
      }
    }
    System.err.println("broker not ready: " + last);
    System.exit(1);
  }
}
