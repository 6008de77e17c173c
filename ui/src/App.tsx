import { useState } from "react";
import { Link } from "./components/Link";
import { useLocation } from "./router";
import { currentUser, setCurrentUser } from "./settings";
import { ComparePage } from "./views/ComparePage";
import { ExperimentsPage } from "./views/ExperimentsPage";
import { ModelPage } from "./views/ModelPage";
import { ModelsPage } from "./views/ModelsPage";
import { RunPage } from "./views/RunPage";
import { RunsPage } from "./views/RunsPage";

function View() {
  const { path } = useLocation();
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return <ExperimentsPage />;
  if (parts[0] === "experiments" && parts.length === 1) return <RunsPage />;
  if (parts[0] === "runs" && parts.length === 2) return <RunPage runId={parts[1]} />;
  if (parts[0] === "compare" && parts.length === 1) return <ComparePage />;
  if (parts[0] === "models" && parts.length === 1) return <ModelsPage />;
  if (parts[0] === "models" && parts.length === 2) return <ModelPage name={parts[1]} />;
  return <p className="error">No page at {path}.</p>;
}

function UserBox() {
  const [name, setName] = useState(currentUser() === "anonymous" ? "" : currentUser());
  const [saved, setSaved] = useState(false);
  return (
    <form
      className="user-box"
      onSubmit={(event) => {
        event.preventDefault();
        setCurrentUser(name);
        setSaved(true);
      }}
    >
      <label>
        Acting as{" "}
        <input
          aria-label="Your user name"
          placeholder="anonymous"
          value={name}
          onChange={(event) => {
            setName(event.target.value);
            setSaved(false);
          }}
        />
      </label>
      <button type="submit">{saved ? "Saved" : "Save"}</button>
    </form>
  );
}

export function App() {
  return (
    <>
      <header className="top">
        <Link to="/" className="brand">
          Heron
        </Link>
        <nav>
          <Link to="/">Experiments</Link>
          <Link to="/models">Models</Link>
        </nav>
        <UserBox />
      </header>
      <main>
        <View />
      </main>
    </>
  );
}
