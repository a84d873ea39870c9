package db

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// The claim's row spells out the execution's columns (x.* of a CTE): every one of them must
// reach the execution the worker runs, including columns added after this was written.
func TestClaimedExecutionCopiesEveryColumn(t *testing.T) {
	t.Parallel()
	var r dbsqlc.ExecutionStartRow
	v := reflect.ValueOf(&r).Elem()
	for i := 0; i < v.NumField(); i++ {
		fill(t, v.Field(i), v.Type().Field(i).Name)
	}
	x := reflect.ValueOf(claimedExecution(r))
	for i := 0; i < x.NumField(); i++ {
		require.False(t, x.Field(i).IsZero(), "column %s of attune.execution is not copied by claimedExecution", x.Type().Field(i).Name)
	}
}

// fill sets f to a value that is not its zero value.
func fill(t *testing.T, f reflect.Value, name string) {
	t.Helper()
	switch f.Kind() {
	case reflect.Pointer:
		f.Set(reflect.New(f.Type().Elem()))
		fill(t, f.Elem(), name)
	case reflect.String:
		f.SetString("x")
	case reflect.Int, reflect.Int16, reflect.Int32, reflect.Int64:
		f.SetInt(1)
	case reflect.Bool:
		f.SetBool(true)
	case reflect.Slice:
		f.Set(reflect.MakeSlice(f.Type(), 1, 1))
	case reflect.Struct:
		if f.Type() == reflect.TypeOf(time.Time{}) {
			f.Set(reflect.ValueOf(time.Unix(1, 0)))
			return
		}
		for i := 0; i < f.NumField(); i++ {
			fill(t, f.Field(i), name)
		}
	default:
		t.Fatalf("field %s: kind %s: teach fill about it", name, f.Kind())
	}
}
