/* Hold.java - a test JVM for tests/t_ps.sh and bench/ps-bench.sh: loads
 * Log4j (log4j-core must be on its class path), optionally listens on a
 * TCP port on 127.0.0.1, writes "PID PORT" to the file named by its first
 * argument (atomically, so a reader never sees half of it) and waits. */
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

public class Hold {
	public static void main(String[] a) throws Exception {
		Logger log = LogManager.getLogger(Hold.class);
		log.info("log4scan test JVM {}", ProcessHandle.current().pid());
		int port = 0;
		ServerSocket ss = null;
		if (a.length > 1 && a[1].equals("listen")) {
			ss = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"));
			port = ss.getLocalPort();
		}
		Path tmp = Path.of(a[0] + ".tmp");
		Files.writeString(tmp, ProcessHandle.current().pid() + " " + port + "\n");
		Files.move(tmp, Path.of(a[0]));
		Thread.sleep(Long.MAX_VALUE);
	}
}
