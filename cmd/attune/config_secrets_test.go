package main

import (
	"encoding/base64"
	"testing"

	"github.com/spf13/viper"
	"github.com/stretchr/testify/require"
)

func TestConfigSecretsKey(t *testing.T) {
	t.Chdir(t.TempDir())
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	t.Setenv("ATTUNE_SECRETS_KEY", key)
	cfg, err := loadConfig(viper.New(), "")
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	require.Equal(t, key, cfg.Secrets.Key)
	require.Equal(t, "********", cfg.Masked().Secrets.Key, "attune config masks it")
	require.Equal(t, key, cfg.Secrets.Key, "the original is untouched")

	for _, bad := range []struct{ key, want string }{
		{"not base64!", "secrets.key: is not base64; generate one with `head -c32 /dev/urandom | base64`"},
		{base64.StdEncoding.EncodeToString([]byte("short")), "secrets.key: must be 32 bytes, got 5; generate one with `head -c32 /dev/urandom | base64`"},
	} {
		t.Setenv("ATTUNE_SECRETS_KEY", bad.key)
		cfg, err := loadConfig(viper.New(), "")
		require.NoError(t, err)
		err = cfg.Validate()
		require.ErrorContains(t, err, bad.want)
		require.NotContains(t, err.Error(), bad.key, "the key is never echoed")
	}

	t.Setenv("ATTUNE_SECRETS_KEY", "")
	cfg, err = loadConfig(viper.New(), "")
	require.NoError(t, err)
	require.NoError(t, cfg.Validate(), "no key is valid: secrets are refused when used")
	require.Equal(t, "", cfg.Masked().Secrets.Key)
}

func TestStringParamKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"a=1", "b:=2", "c=x=y"}, []string{"a", "c"}},
		{[]string{"a=1", "a:=2"}, []string{}},
		{[]string{"a:=2", "a=1"}, []string{"a"}},
		{[]string{"weird=a:=b"}, []string{"weird"}},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, stringParamKeys(tt.args), "%v", tt.args)
	}
}
