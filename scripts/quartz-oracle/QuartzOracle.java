// Prints the fire times Quartz's own CronExpression computes, for tapline's differential cron tests.
//
// Input (stdin), one case per line: EXPRESSION <TAB> START (ISO 8601, UTC) <TAB> COUNT [<TAB> ZONE]
// Output (stdout), one line per case: EXPRESSION <TAB> START [<TAB> ZONE] <TAB> T1 T2 … (UTC, space-separated),
// or EXPRESSION <TAB> START <TAB> invalid, or … <TAB> error when Quartz throws while evaluating, or … <TAB> hang when Quartz does not answer within 5 s
// (some expressions send Quartz's getTimeAfter into an endless loop).
import java.text.SimpleDateFormat;
import java.util.*;
import java.io.*;
import java.util.concurrent.*;
import org.quartz.CronExpression;

public class QuartzOracle {
    public static void main(String[] args) throws Exception {
        SimpleDateFormat iso = new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss'Z'");
        iso.setTimeZone(TimeZone.getTimeZone("UTC"));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty() || line.startsWith("#")) continue;
            String[] parts = line.split("\t");
            String expression = parts[0];
            Date cursor = iso.parse(parts[1]);
            int count = Integer.parseInt(parts[2]);
            final String zone = parts.length > 3 ? parts[3] : "UTC";
            StringBuilder out = new StringBuilder(expression).append('\t').append(parts[1]).append('\t');
            if (parts.length > 3) out.append(zone).append('\t');
            final Date start = cursor;
            ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r);
                t.setDaemon(true);
                return t;
            });
            Future<String> result = worker.submit(() -> {
                CronExpression cron;
                try {
                    cron = new CronExpression(expression);
                } catch (Exception e) {
                    return "invalid";
                }
                cron.setTimeZone(TimeZone.getTimeZone(zone));
                List<String> times = new ArrayList<>();
                Date at = start;
                for (int i = 0; i < count; i++) {
                    at = cron.getTimeAfter(at);
                    if (at == null) break;
                    times.add(iso.format(at));
                }
                return times.isEmpty() ? "never" : String.join(" ", times);
            });
            try {
                out.append(result.get(5, TimeUnit.SECONDS));
            } catch (TimeoutException e) {
                out.append("hang");
            } catch (ExecutionException e) {
                out.append("error");
            }
            worker.shutdownNow();
            System.out.println(out);
        }
        System.out.flush();
        System.exit(0);
    }
}
