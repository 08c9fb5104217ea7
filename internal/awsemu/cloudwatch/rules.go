package cloudwatch

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Limits of PutMetricData timestamps.
const (
	maxDatumAge    = 14 * 24 * time.Hour
	maxDatumFuture = 2 * time.Hour
)

// validQueryPeriod reports whether a statistics period is 1, 5, 10, 20,
// 30 or a multiple of 60 seconds.
func validQueryPeriod(sec int32) bool {
	switch sec {
	case 1, 5, 10, 20, 30:
		return true
	}
	return sec > 0 && sec%60 == 0
}

// validAlarmPeriod reports whether an alarm period is 10, 20, 30 or a
// multiple of 60 seconds.
func validAlarmPeriod(sec int32) bool {
	return sec == 10 || sec == 20 || sec == 30 || sec > 0 && sec%60 == 0
}

func periodError(sec int32) error {
	return protocol.Errorf("InvalidParameterValueException", "The parameter Period must be 1, 5, 10, 20, 30 or a multiple of 60 (got %d).", sec)
}

// roundStart rounds a query's StartTime down as CloudWatch does: to the
// period within the minute for high-resolution periods, else to the
// minute when less than 15 days ago, to 5 minutes up to 63 days ago, and
// to the hour beyond.
func roundStart(start, now time.Time, period time.Duration) time.Time {
	age := now.Sub(start)
	switch {
	case age > 63*24*time.Hour:
		return start.Truncate(time.Hour)
	case age > 15*24*time.Hour:
		return start.Truncate(5 * time.Minute)
	case period < time.Minute:
		return start.Truncate(period)
	default:
		return start.Truncate(time.Minute)
	}
}

// checkDatum applies PutMetricData's rules to one datum (index i, from
// 1): Value, Values and StatisticValues exclusive, Counts as long as
// Values, a timestamp within two weeks back and two hours ahead.
func checkDatum(i int, d types.MetricDatum, now time.Time) error {
	given := 0
	for _, set := range []bool{d.Value != nil, len(d.Values) > 0, d.StatisticValues != nil} {
		if set {
			given++
		}
	}
	if given > 1 {
		return protocol.Errorf("InvalidParameterCombinationException", "The parameters MetricData.member.%d.Value, MetricData.member.%d.Values and MetricData.member.%d.StatisticValues are mutually exclusive and you specified more than one.", i, i, i)
	}
	if len(d.Counts) > 0 && len(d.Counts) != len(d.Values) {
		return protocol.Errorf("InvalidParameterValueException", "The parameters MetricData.member.%d.Values and MetricData.member.%d.Counts must be of the same size.", i, i)
	}
	if d.Timestamp != nil {
		if at := *d.Timestamp; now.Sub(at) > maxDatumAge || at.Sub(now) > maxDatumFuture {
			return protocol.Errorf("InvalidParameterValueException", "The parameter MetricData.member.%d.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future.", i)
		}
	}
	return nil
}

// checkAlarmRules applies PutMetricAlarm's period and statistic rules.
func checkAlarmRules(in *cloudwatch.PutMetricAlarmInput) error {
	if in.Statistic != "" && in.ExtendedStatistic != nil {
		return protocol.Errorf("InvalidParameterCombinationException", "Exactly one of Statistic or ExtendedStatistic must be specified, not both.")
	}
	if in.Period != nil && !validAlarmPeriod(aws.ToInt32(in.Period)) {
		return protocol.Errorf("InvalidParameterValueException", "The parameter Period must be 10, 20, 30 or a multiple of 60 (got %d).", aws.ToInt32(in.Period))
	}
	return nil
}

// nextBoundary returns the first clock-aligned period boundary after t.
func nextBoundary(t time.Time, p time.Duration) time.Time {
	return t.Truncate(p).Add(p)
}
