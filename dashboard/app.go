package dashboard

import (
	"github.com/jibe-dev/jibe/agent"
)

// appPage is an application's page: each environment in promotion order.
type appPage struct {
	ID, Name, Source, Folder string
	Revision                 string
	Error                    string
	Envs                     []envSection
}

// envSection is one environment of an application's page.
type envSection struct {
	cell
	Reason  string
	Waiting string
	Drift   []string
}

// appPageOf is the page of an application's view.
func appPageOf(v agent.AppView) appPage {
	p := appPage{ID: v.ID, Name: v.Name, Source: v.Source, Folder: v.Folder, Revision: v.Revision, Error: v.Error}
	for i := range v.Environments {
		e := &v.Environments[i]
		p.Envs = append(p.Envs, envSection{cell: cellOf(e), Reason: e.Reason, Waiting: e.Waiting, Drift: e.Drift})
	}
	return p
}
